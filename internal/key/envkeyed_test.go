package key

import "testing"

func TestEnvKeyed(t *testing.T) {
	for name, want := range map[string]bool{
		"CARGO_PKG_VERSION": true, "CARGO_MANIFEST_DIR": true, "OUT_DIR": true, "RUSTC_BOOTSTRAP": true,
		"LIBRARY_PATH": true, "LD_RUN_PATH": true, "COMPILER_PATH": true, "GCC_EXEC_PREFIX": true,
		"MACOSX_DEPLOYMENT_TARGET": true, "IPHONEOS_DEPLOYMENT_TARGET": true, "SDKROOT": true,
		"CARGO_TARGET_DIR": false, "CARGO_TERM_COLOR": false, "HOME": false, "PATH": false, "RUSTFLAGS": false,
	} {
		if got := envKeyed(name); got != want {
			t.Errorf("envKeyed(%s) = %v, want %v", name, got, want)
		}
	}
}
