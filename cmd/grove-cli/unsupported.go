//go:build !linux && !darwin

package main

// grove runs on Linux and macOS only: it uses Unix system calls throughout
// (flock, hard links and their counts, exclusive renames, stat identities),
// and nothing has been written or tested for another OS (README,
// "Platforms"). On any other GOOS this import, whose path is the reason,
// stops the build while packages are loaded, so `go build ./cmd/grove`
// prints this one line instead of pages of undefined symbols from deeper
// packages. (An import path, not a compile error in the code: the build
// would report one from every failing package at once.)
import _ "grove_supports_only_Linux_and_macOS/Windows_is_not_supported_yet/see_README_Platforms"
