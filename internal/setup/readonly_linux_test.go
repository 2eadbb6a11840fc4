package setup

import "golang.org/x/sys/unix"

// bindReadOnly makes dir read-only even for root with a read-only bind
// mount over itself, and returns how to undo it; ok is false (nothing done)
// where mounting is not allowed.
func bindReadOnly(dir string) (undo func(), ok bool) {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return nil, false
	}
	if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
		return nil, false
	}
	return func() { unix.Unmount(dir, unix.MNT_DETACH) }, true
}
