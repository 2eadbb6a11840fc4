package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Access says who may write a store. Whoever can write a store decides what
// every build using it runs: a replaced blob is a replaced program.
//
// Trust model:
//
//   - Private (the default): only the owner. Every directory is 0700
//     whatever the umask, so no other user can even read it. Open refuses a
//     store directory owned by another user or writable by group or world.
//   - Group (GROVE_SHARED_STORE=group): every member of the store
//     directory's group can write, and so can make the others run anything;
//     choose it only for a group whose members already trust each other with
//     their builds (one team's CI runners, one person's accounts).
//     Directories are 02770 (setgid, so files keep the store's group). A
//     store is never world-writable.
//
// Files keep owner-only write bits in both (blobs 0644 or 0755, like a plain
// cargo output), so a hard-linked output in a target dir behaves like one.
type Access int

const (
	Private Access = iota
	Group
)

func (a Access) String() string {
	if a == Group {
		return "group"
	}
	return "private"
}

// ParseAccess reads the value of GROVE_SHARED_STORE: empty (or "private",
// "0", "no", "off") for a private store, "group" for one shared with the
// store directory's group.
func ParseAccess(v string) (Access, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "private", "0", "no", "off", "false":
		return Private, nil
	case "group":
		return Group, nil
	}
	return Private, fmt.Errorf("GROVE_SHARED_STORE=%q: want \"group\" or nothing", v)
}

// ErrUntrusted is wrapped by Open's error for a store directory that users
// other than the ones its Access allows could write.
var ErrUntrusted = errors.New("refusing a store others could write")

// dirMode is the mode of every directory of the store.
func (s *Store) dirMode() fs.FileMode {
	if s.access == Group {
		return 0o770 | fs.ModeSetgid
	}
	return 0o700
}

// mkdir creates one directory with the store's mode, whatever the umask. An
// existing directory is not an error.
func (s *Store) mkdir(path string) error {
	err := os.Mkdir(path, 0o700)
	if err != nil {
		return err
	}
	if s.access == Group {
		// Mkdir applies the umask and drops setgid: set the mode exactly.
		return os.Chmod(path, s.dirMode())
	}
	return nil
}

// mkdirAll creates path and its missing parents inside the store, each with
// the store's mode. Missing parents of the store directory itself are the
// user's ordinary directories (~/.cache) and get the umask's mode.
func (s *Store) mkdirAll(path string) error {
	err := s.mkdir(path)
	switch {
	case err == nil || errors.Is(err, fs.ErrExist):
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	case path == s.dir || !strings.HasPrefix(path, s.dir+string(filepath.Separator)):
		err = os.MkdirAll(filepath.Dir(path), 0o777)
	default:
		err = s.mkdirAll(filepath.Dir(path))
	}
	if err != nil {
		return err
	}
	if err := s.mkdir(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// fixFileMode sets the mode of a file the store just created, when the umask
// may have narrowed it below what the store's users need (group stores
// only: a private store's files are read by their owner).
func (s *Store) fixFileMode(f *os.File, mode fs.FileMode) error {
	if s.access != Group {
		return nil
	}
	return f.Chmod(mode)
}

// checkTrust refuses a store directory that someone its access does not
// allow could write, and brings a store this user owns to its access's mode.
// fi is the store directory's (followed) FileInfo.
//
// A store made by an older grove is 0755 or 0775 depending on the umask of
// the time. 0755 is tightened to 0700 after checking that no directory
// inside is writable by others (so nobody could have planted anything);
// 0775 is refused, since another user may already have replaced a blob.
func (s *Store) checkTrust(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil // no owner to check on this platform
	}
	mode := fi.Mode()
	untrusted := func(why string) error {
		hint := ", or set GROVE_SHARED_STORE=group to share it with your group"
		if s.access == Group {
			hint = ""
		}
		return fmt.Errorf("store: open %s: %s: %w: remove it (it is only a cache)%s", s.dir, why, ErrUntrusted, hint)
	}
	if mode&0o002 != 0 {
		return untrusted(fmt.Sprintf("it is group- or world-writable (mode %04o)", mode.Perm()))
	}
	mine := int(st.Uid) == os.Geteuid()
	switch s.access {
	case Private:
		if !mine {
			return untrusted(fmt.Sprintf("it is owned by uid %d, not by you (uid %d)", st.Uid, os.Geteuid()))
		}
		if mode&0o020 != 0 {
			return untrusted(fmt.Sprintf("it is group- or world-writable (mode %04o)", mode.Perm()))
		}
		if mode&0o077 == 0 {
			return nil
		}
		// Readable by others: an older grove's store. Tighten it, if
		// nothing inside was ever writable by others.
		if err := s.checkTree(); err != nil {
			return untrusted(err.Error())
		}
		if err := os.Chmod(s.dir, 0o700); err != nil {
			return fmt.Errorf("store: open %s: %w", s.dir, err)
		}
	case Group:
		if !mine && !inGroup(int(st.Gid)) {
			return untrusted(fmt.Sprintf("it belongs to uid %d and gid %d, and you are in neither", st.Uid, st.Gid))
		}
		if mode&0o070 == 0o070 && mode&fs.ModeSetgid != 0 {
			return nil
		}
		if !mine {
			return untrusted(fmt.Sprintf("it is not shared with its group (mode %04o) and you do not own it", mode.Perm()))
		}
		if err := s.checkTree(); err != nil {
			return untrusted(err.Error())
		}
		if err := s.shareTree(); err != nil {
			return fmt.Errorf("store: open %s: share with group: %w", s.dir, err)
		}
	}
	return nil
}

// checkTree reports a directory under the store that users other than its
// owner could have written, or that another user owns.
func (s *Store) checkTree() error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return fmt.Errorf("%s is owned by uid %d", p, st.Uid)
		}
		if fi.Mode()&0o022 != 0 && p != s.dir {
			return fmt.Errorf("%s is group- or world-writable (mode %04o)", p, fi.Mode().Perm())
		}
		return nil
	})
}

// shareTree gives every directory of a store this user owns the group
// store's mode, and its files group read access, for a store that was
// private until GROVE_SHARED_STORE=group chose to share it.
func (s *Store) shareTree() error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, s.dirMode())
		}
		if fi, err := d.Info(); err == nil && d.Type().IsRegular() && fi.Mode()&0o040 == 0 {
			return os.Chmod(p, fi.Mode().Perm()|0o040)
		}
		return nil
	})
}

// inGroup reports whether this process is a member of gid.
func inGroup(gid int) bool {
	if os.Getegid() == gid {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}
