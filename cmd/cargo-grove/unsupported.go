//go:build !linux && !darwin

package main

// cargo-grove, like grove, runs on Linux and macOS only (see
// cmd/grove/unsupported.go): this import's path is the one-line reason a
// build for another OS stops.
import _ "grove_supports_only_Linux_and_macOS/Windows_is_not_supported_yet/see_README_Platforms"
