package treewatch

// Supported: this OS can watch a compile's reads (inotify).
const Supported = true
