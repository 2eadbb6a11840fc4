package setup

// bindReadOnly: macOS has no bind mounts; the caller falls back to its next
// way (or skips).
func bindReadOnly(dir string) (undo func(), ok bool) {
	return nil, false
}
