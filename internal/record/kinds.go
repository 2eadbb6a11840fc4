package record

// The one list of object namespaces. Every object in the store belongs to
// one of these kinds; trim and verify walk them from here, so a new kind is
// added here (with what it references) or trim never removes it.
const (
	NSManifest   = "manifest"   // ArgKey → Manifest: the input sets seen for these arguments
	NSEntry      = "entry"      // EntryKey → Entry: the outputs of one compile, by blob digest
	NSLib        = "lib"        // rlib blob Digest → Lib: the libraries it was compiled against
	NSComponents = "components" // ArgKey → the key's components, for explain
	NSCrate      = "crate"      // CrateID(name) → CrateKeys: recent argument keys, for explain

	// Build-script runs (key/buildrun.go), two levels like a unit's.
	NSRunManifest = "run-manifest" // run key → Manifest: the rerun-if-changed input sets seen
	NSRun         = "run"          // run entry key → BuildRun: one run's OUT_DIR (blobs) and output

	// Memos: pure caches of a computation on a file or a directory, keyed
	// by its stat identity. Losing one costs a re-hash, never a wrong key.
	NSFileHash   = "filehash"   // file stat identity → its content digest (package filehash)
	NSNativeHash = "nativehash" // file stat identity → its archive digest (key/native.go)
	NSNativeDir  = "nativedir"  // native lib dir identity → its file digests (key/native.go)
	NSRustc      = "rustc"      // rustc binary and sysroot identity → toolchain.Rustc
	NSInputSet   = "inputset"   // stat identities of a candidate's sources → their digests (key/inputmemo.go)
	NSBlobInode  = "blobinode"  // a blob's or private copy's stat identity → its digest (key/blobinode.go)
	NSHostCPU    = "hostcpu"    // rustc identity, target and boot → the host CPU rustc resolves (key/hostcpu.go)
)

// Kind describes one namespace: what its objects are and what keeps them
// alive. Trim removes an object once nothing live refers to it, or, for a
// cache, when it is old or the store is over its size.
type Kind struct {
	NS   string
	What string
	// Refs names what the object refers to: trim keeps those alive as long
	// as the object lives.
	Refs string
	// LiveWhile says what keeps the object itself alive.
	LiveWhile string
	// Cache is set for kinds that only save work (memos, explain data):
	// trimmed by age and size alone.
	Cache bool
}

// Kinds returns every object kind grove writes.
func Kinds() []Kind {
	return []Kind{
		{NS: NSEntry, What: "outputs of one compile", Refs: "blobs (Output.Digest)", LiveWhile: "used within the age limit (LRU, touched on a hit) and a manifest names it"},
		{NS: NSManifest, What: "candidate input sets for one argument key", Refs: "entries (Candidate.Entry)", LiveWhile: "one of its candidates' entries exists"},
		{NS: NSLib, What: "libraries an rlib was compiled against", Refs: "rlib file names (not digests)", LiveWhile: "the rlib blob it is named after exists"},
		{NS: NSComponents, What: "key components of an argument key, for explain", LiveWhile: "its manifest exists", Cache: true},
		{NS: NSCrate, What: "recent argument keys of a crate, for explain", Refs: "components (by ArgKey)", Cache: true},
		{NS: NSRun, What: "one build-script run: its OUT_DIR and output", Refs: "blobs (RunFile.Digest)", LiveWhile: "used within the age limit and the size (LRU, touched on a replay)", Cache: true},
		{NS: NSRunManifest, What: "candidate declared-input sets for one build-script run key", Refs: "runs (Candidate.Entry)", Cache: true},
		{NS: NSFileHash, What: "memo: file digest by stat identity", Cache: true},
		{NS: NSNativeHash, What: "memo: archive digest by stat identity", Cache: true},
		{NS: NSNativeDir, What: "memo: native library dir digests", Cache: true},
		{NS: NSRustc, What: "memo: compiler identity", Cache: true},
		{NS: NSInputSet, What: "memo: digests of a candidate's sources by their stat identities", Cache: true},
		{NS: NSBlobInode, What: "memo: digest of a file known to be a blob or a copy of one", Cache: true},
		{NS: NSHostCPU, What: "memo: the host CPU and features rustc resolves target-cpu=native to", Cache: true},
	}
}

// IsCache reports whether objects of namespace ns only save work. A
// namespace this grove does not know (written by a newer one) counts as a
// cache: trimmed by age and size, never read.
func IsCache(ns string) bool {
	for _, k := range Kinds() {
		if k.NS == ns {
			return k.Cache
		}
	}
	return true
}
