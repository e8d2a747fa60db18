// Command ceiling reads files the way outsider's reader does (reads of its
// batch size into a reused buffer, one goroutine; a .gz file through the same
// klauspost/compress inflater) and does nothing with the bytes. bench/run.sh
// times it beside outsider: the throughput no triage of that input can
// exceed on this machine with one reader.
//
// It replaces `cat FILE >/dev/null` as the ceiling because in some
// sandboxes writing to /dev/null is a costly system call (strace here: 83 %
// of cat's time in write), which made cat slower than outsider itself.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/outsider-sec/outsider/internal/source"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ceiling FILE...")
		os.Exit(2)
	}
	buf := make([]byte, source.DefaultBatchBytes)
	for _, path := range os.Args[1:] {
		if err := read(path, buf); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
	}
}

func read(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	for {
		_, err := io.ReadFull(r, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}
