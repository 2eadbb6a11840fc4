package measure

import "syscall"

// maxRSSBytes returns getrusage's peak resident set in bytes: Linux reports
// ru_maxrss in KiB.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }
