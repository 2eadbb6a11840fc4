package key

import (
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/toolchain"
)

// Arguments resolved from the host: the rule.
//
// Most arguments mean the same on every machine, and are keyed as written.
// A few are resolved by rustc from the machine it runs on: `-C
// target-cpu=native` (and nightly's `-Z tune-cpu=native`) compile for the
// CPU rustc finds, with the features it finds. Their text is the same on
// a laptop and on a server, their output is not: keyed as written, a store
// shared across machines (the remote cache), or one machine's after its CPU
// changed, would hand out code for another CPU — code that may crash with
// SIGILL, or be slower. So such an argument is keyed by its resolution as
// well: the CPU name and the target features rustc resolves it to (`rustc
// --print target-cpus` names the host CPU on its "native" line, `--print
// cfg` lists the features), for the unit's target.
//
// The resolution is memoized (NSHostCPU) per rustc identity, target and
// boot of this machine, so a hit runs no rustc: a CPU does not change
// without a reboot (a VM's live migration keeps the CPU it shows its
// guest). Without a boot identity, rustc is asked every time.

// hostResolved reports whether option o is resolved from the host machine.
func hostResolved(o rustc.Option) bool {
	var name, v string
	switch o.Flag {
	case "-C", "--codegen", "-Z":
		name, v, _ = strings.Cut(o.Value, "=")
	default:
		return false
	}
	switch name {
	case "target-cpu", "tune-cpu":
		return v == "native"
	}
	return false
}

// keyHostResolved adds the host's resolution of the unit's host-resolved
// arguments, if it has any.
func (u *Unit) keyHostResolved(id *toolchain.Rustc) error {
	for _, o := range rustc.SplitOptions(u.Inv.Args) {
		if hostResolved(o) {
			res, err := u.hostCPU(id)
			if err != nil {
				return NotCacheable(fmt.Sprintf("%s %s: cannot resolve the host CPU: %v", o.Flag, o.Value, err))
			}
			u.Comps.Add("host-cpu", res)
			return nil
		}
	}
	return nil
}

// hostCPU returns what rustc resolves `-C target-cpu=native` to on this
// machine for the unit's target, memoized.
func (u *Unit) hostCPU(id *toolchain.Rustc) (string, error) {
	target := u.Inv.Target
	targetID := target
	if strings.HasSuffix(target, ".json") {
		d, _, err := u.Hasher.File(u.Abs(target))
		if err != nil {
			return "", err
		}
		targetID = "spec " + d
	}
	memoKey := hostCPUMemoKey(id, targetID, bootID())
	if memoKey != "" {
		if b, err := u.records.GetObject(record.NSHostCPU, memoKey); err == nil {
			if record.Check(record.NSHostCPU, b) == nil {
				return string(b), nil
			}
		}
	}
	args := []string{"--print", "target-cpus", "--print", "cfg", "-C", "target-cpu=native"}
	if target != "" {
		args = append(args, "--target", target)
	}
	cmd := exec.Command(u.Inv.Rustc, args...)
	cmd.Dir = u.Cwd
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("rustc %s: %w", strings.Join(args, " "), err)
	}
	res, err := ParseHostCPU(string(out))
	if err != nil {
		return "", err
	}
	if memoKey != "" {
		_ = u.records.PutObject(record.NSHostCPU, memoKey, []byte(res)) // a lost memo costs a rustc --print
	}
	return res, nil
}

// hostCPUMemoKey names the memo of the host CPU for a rustc and a target
// in one boot; "" (no memo) without a boot identity.
func hostCPUMemoKey(id *toolchain.Rustc, targetID, boot string) string {
	if boot == "" {
		return ""
	}
	return filehash.Bytes([]byte("hostcpu-1\x00" + id.Version + "\x00" + id.SysrootDigest + "\x00" + targetID + "\x00" + boot))[:32]
}

// ParseHostCPU turns the output of `rustc --print target-cpus --print cfg
// -C target-cpu=native` into the resolution keyed: "cpu NAME" and one
// "feature F" line per target feature, sorted.
func ParseHostCPU(out string) (string, error) {
	cpu := ""
	var feats []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if f, ok := strings.CutPrefix(l, "target_feature=\""); ok {
			feats = append(feats, "feature "+strings.TrimSuffix(f, "\""))
			continue
		}
		if strings.HasPrefix(l, "native ") || strings.HasPrefix(l, "native\t") {
			if _, rest, ok := strings.Cut(l, "(currently "); ok {
				cpu, _, _ = strings.Cut(rest, ")")
				cpu = strings.TrimSuffix(cpu, ".")
			}
		}
	}
	if cpu == "" {
		return "", errors.New("rustc names no host CPU")
	}
	sort.Strings(feats)
	return strings.Join(append([]string{"cpu " + cpu}, feats...), "\n"), nil
}
