package record

import (
	"encoding/json"
	"errors"
	"fmt"
)

// NSIndex holds a remote's indexes of its own objects; it exists only on
// a remote, never in a local store (so it is not among Kinds). Its one
// object is IndexRecent.
const NSIndex = "index"

// IndexRecent is the key (under NSIndex) of the remote's KeyIndex of
// manifests recently uploaded: what a reader's agent prefetches.
const IndexRecent = "recent"

// MaxIndexKeys bounds a KeyIndex; the oldest keys are dropped. A few
// thousand keys are a few hundred kilobytes: one GET.
const MaxIndexKeys = 4096

// KeyRef names one manifest: a unit's (NSManifest) or a build-script
// run's (NSRunManifest), by its argument key.
type KeyRef struct {
	NS  string `json:"ns"`
	Key string `json:"key"`
}

// KeyIndex lists manifests recently uploaded to a remote: the latest
// batch first, each batch as its uploader ordered it (upload order, which
// is the order a build needs them).
// It only saves time: a reader prefetches what it names, and verifies
// what it fetches as on demand; a key lost (two uploaders merging at
// once, the bound) costs an on-demand fetch, never a wrong hit.
type KeyIndex struct {
	Keys []KeyRef `json:"keys"`
}

// Merge puts newer, in its order, in front of x's keys, each key once (at
// its first place), and keeps at most MaxIndexKeys.
func (x *KeyIndex) Merge(newer []KeyRef) {
	seen := make(map[KeyRef]bool, len(newer)+len(x.Keys))
	out := make([]KeyRef, 0, min(len(newer)+len(x.Keys), MaxIndexKeys))
	for _, list := range [][]KeyRef{newer, x.Keys} {
		for _, k := range list {
			if seen[k] || len(out) == MaxIndexKeys {
				continue
			}
			seen[k] = true
			out = append(out, k)
		}
	}
	x.Keys = out
}

// DecodeKeyIndex decodes a key index: every key names a manifest
// (NSManifest or NSRunManifest) by a plausible key, and there are at most
// MaxIndexKeys. null is corrupt; an empty list is not.
func DecodeKeyIndex(b []byte) (KeyIndex, error) {
	var x KeyIndex
	if err := json.Unmarshal(b, &x); err != nil {
		return KeyIndex{}, corrupt(err)
	}
	if x.Keys == nil {
		return KeyIndex{}, corrupt(errors.New("key index without keys"))
	}
	if len(x.Keys) > MaxIndexKeys {
		return KeyIndex{}, corrupt(fmt.Errorf("key index of %d keys (at most %d)", len(x.Keys), MaxIndexKeys))
	}
	for _, k := range x.Keys {
		if k.NS != NSManifest && k.NS != NSRunManifest {
			return KeyIndex{}, corrupt(fmt.Errorf("key index names namespace %q", k.NS))
		}
		if !isHex(k.Key) {
			return KeyIndex{}, corrupt(fmt.Errorf("key index names key %q", k.Key))
		}
	}
	return x, nil
}
