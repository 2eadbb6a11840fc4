int grove_native(int x) { return x * 10; }
