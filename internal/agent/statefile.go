package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/atomicfile"
)

// writeState replaces a state file durably: a crash, even a power loss,
// leaves the old state or the new one.
func writeState(path string, data []byte, trace func(step, path string)) error {
	if _, err := atomicfile.Write(path, data, atomicfile.Options{Trace: trace}); err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	return nil
}

// readState decodes the state file at path into v. found is false, and v
// untouched, when path is "" or the file does not exist yet; a file that
// does not decode is an error that says what removing it starts with
// (empty: "no version", "no routes").
func readState(path string, v any, empty string) (found bool, err error) {
	if path == "" {
		return false, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading state file: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("state file %s is not valid (remove it to start with %s): %w", path, empty, err)
	}
	return true, nil
}
