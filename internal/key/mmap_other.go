//go:build !linux && !darwin

package key

import "errors"

// mapFile does not map here: the pin scan reads (pin.go).
func mapFile(path string) (data []byte, unmap func(), err error) {
	return nil, nil, errors.New("not mapped")
}
