// Command fedledger-lattice is fedledger's helper process for the multiparty lattice scheme.
//
// It reads framed requests on stdin and writes one framed reply per request on stdout, for as
// long as stdin stays open; it keeps no state between requests except cached ring parameters.
// A frame is: u32 header length, a JSON header, u32 blob count, then for each blob a u32 length
// and its bytes (little-endian throughout). A reply header is {"ok": true, ...} or
// {"error": "..."}. Why a process and not a shared library: see the Python package docstring
// (client/fedledger/crypto/lattice/__init__.py).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxFrame bounds every length read from the pipe, so a corrupt frame cannot make us allocate
// without limit.
const maxFrame = 1 << 30

type request struct {
	Op     string          `json:"op"`
	Params ringSpec        `json:"params"`
	Args   json.RawMessage `json:"args"`
}

func readU32(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readChunk(r io.Reader) ([]byte, error) {
	n, err := readU32(r)
	if err != nil {
		return nil, err
	}
	if n > maxFrame {
		return nil, fmt.Errorf("frame part of %d bytes exceeds the limit", n)
	}
	buf := make([]byte, n)
	_, err = io.ReadFull(r, buf)
	return buf, err
}

func readFrame(r io.Reader) ([]byte, [][]byte, error) {
	header, err := readChunk(r)
	if err != nil {
		return nil, nil, err
	}
	count, err := readU32(r)
	if err != nil {
		return nil, nil, err
	}
	if count > 1<<16 {
		return nil, nil, fmt.Errorf("too many blobs: %d", count)
	}
	blobs := make([][]byte, count)
	for i := range blobs {
		if blobs[i], err = readChunk(r); err != nil {
			return nil, nil, err
		}
	}
	return header, blobs, nil
}

func writeFrame(w *bufio.Writer, header any, blobs [][]byte) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(len(h)))
	w.Write(b[:])
	w.Write(h)
	binary.LittleEndian.PutUint32(b[:], uint32(len(blobs)))
	w.Write(b[:])
	for _, blob := range blobs {
		binary.LittleEndian.PutUint32(b[:], uint32(len(blob)))
		w.Write(b[:])
		w.Write(blob)
	}
	return w.Flush()
}

func serve(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	for {
		header, blobs, err := readFrame(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		reply, outBlobs, err := dispatch(header, blobs)
		if err != nil {
			reply, outBlobs = map[string]any{"error": err.Error()}, nil
		} else {
			reply["ok"] = true
		}
		if err := writeFrame(w, reply, outBlobs); err != nil {
			return err
		}
	}
}

func dispatch(header []byte, blobs [][]byte) (map[string]any, [][]byte, error) {
	var req request
	if err := json.Unmarshal(header, &req); err != nil {
		return nil, nil, fmt.Errorf("bad request header: %v", err)
	}
	if req.Op == "ping" {
		return map[string]any{"version": helperVersion}, nil, nil
	}
	op, ok := operations[req.Op]
	if !ok {
		return nil, nil, fmt.Errorf("unknown operation %q", req.Op)
	}
	ctx, err := req.Params.context()
	if err != nil {
		return nil, nil, err
	}
	return op(ctx, req.Args, blobs)
}

func main() {
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fedledger-lattice:", err)
		os.Exit(1)
	}
}
