package measure

import "syscall"

// maxRSSBytes returns getrusage's peak resident set in bytes: macOS reports
// ru_maxrss in bytes already.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss }
