// Package main is the model-scanning benchmark: it writes a safetensors
// file (1 GiB by default; -format pytorch writes a torch.save zip instead)
// to a temporary folder, times a plain SHA-256 of it (crypto/sha256 over
// reads of the same size the scanner uses) and a scan of it (which
// identifies the format, checks the header or the pickle, and hashes the
// whole file), deletes it, and prints the times and their ratio,
// sha256_seconds / scan_seconds (with -json as one line {"bytes",
// "scan_seconds", "sha256_seconds", "ratio"}). The budget is a ratio of at
// least 0.8: scanning costs little more than hashing.
//
//	go run ./bench/scan -json
//	go run ./bench/scan -size 64MiB
//	go run ./bench/scan -format pytorch -json
//
// Each measurement is the best of -runs, alternating hash and scan, with
// the file in the page cache for both (it was just written).
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/forensics/scan"
)

// readSize matches the scanner's hashing reads.
const readSize = 1 << 20

type result struct {
	Bytes         int64   `json:"bytes"`
	ScanSeconds   float64 `json:"scan_seconds"`
	SHA256Seconds float64 `json:"sha256_seconds"`
	Ratio         float64 `json:"ratio"`
}

func main() {
	asJSON := flag.Bool("json", false, "print the result as one JSON line")
	sizeFlag := flag.String("size", "1GiB", "size of the model file (bytes, or with KiB, MiB, GiB)")
	format := flag.String("format", "safetensors", "model file to write: safetensors or pytorch (a torch.save zip)")
	runs := flag.Int("runs", 3, "measurements of each; the best is kept")
	dir := flag.String("dir", "", "folder for the temporary file (default: the system's)")
	flag.Parse()

	size, err := parseSize(*sizeFlag)
	if err != nil {
		log.Fatalf("-size: %v", err)
	}
	res, err := run(*format, size, *runs, *dir)
	if err != nil {
		log.Fatal(err)
	}
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			log.Fatal(err)
		}
		return
	}
	mb := float64(res.Bytes) / (1 << 20)
	fmt.Printf("file      %d bytes\n", res.Bytes)
	fmt.Printf("sha256    %.3fs (%.0f MiB/s)\n", res.SHA256Seconds, mb/res.SHA256Seconds)
	fmt.Printf("scan      %.3fs (%.0f MiB/s)\n", res.ScanSeconds, mb/res.ScanSeconds)
	fmt.Printf("ratio     %.3f (budget: at least 0.8)\n", res.Ratio)
}

// run writes the file, measures, and removes it.
func run(format string, size int64, runs int, dir string) (result, error) {
	write, wantFormat := writeSafetensors, "safetensors"
	switch format {
	case "safetensors":
	case "pytorch":
		write, wantFormat = writePyTorchZip, "pytorch-zip"
	default:
		return result{}, fmt.Errorf("unknown -format %q", format)
	}
	tmp, err := os.MkdirTemp(dir, "airlock-bench-scan-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "model")
	total, err := write(path, size)
	if err != nil {
		return result{}, err
	}

	best := func(d, cur time.Duration) time.Duration {
		if cur == 0 || d < cur {
			return d
		}
		return cur
	}
	var hashTime, scanTime time.Duration
	for range max(runs, 1) {
		start := time.Now()
		plain, err := hashFile(path)
		if err != nil {
			return result{}, err
		}
		hashTime = best(time.Since(start), hashTime)

		start = time.Now()
		rep, err := scan.Scan(context.Background(), path, scan.Options{})
		if err != nil {
			return result{}, err
		}
		scanTime = best(time.Since(start), scanTime)
		if f := rep.Files[0]; f.SHA256 != plain || f.Verdict != scan.VerdictClean || f.Format != wantFormat {
			return result{}, fmt.Errorf("scan disagrees: %s %s %s, plain sha256 %s", f.Format, f.Verdict, f.SHA256, plain)
		}
	}
	return result{
		Bytes:         total,
		ScanSeconds:   scanTime.Seconds(),
		SHA256Seconds: hashTime.Seconds(),
		Ratio:         hashTime.Seconds() / scanTime.Seconds(),
	}, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, readSize)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeSafetensors writes a valid safetensors file of about size bytes: U8
// tensors of up to 64 MiB filled from a pseudo-random block.
func writeSafetensors(path string, size int64) (int64, error) {
	const chunk = 64 << 20
	var header strings.Builder
	header.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	for i := 0; off < size; i++ {
		n := min(chunk, size-off)
		fmt.Fprintf(&header, `,"layer.%d.weight":{"dtype":"U8","shape":[%d],"data_offsets":[%d,%d]}`, i, n, off, off+n)
		off += n
	}
	header.WriteString("}")
	for header.Len()%8 != 0 {
		header.WriteString(" ")
	}

	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(header.Len()))
	if _, err := f.Write(lenBuf[:]); err != nil {
		f.Close()
		return 0, err
	}
	if _, err := io.WriteString(f, header.String()); err != nil {
		f.Close()
		return 0, err
	}
	block := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(block)
	for left := off; left > 0; {
		binary.LittleEndian.PutUint64(block, uint64(left)) // no two blocks alike
		n := min(int64(len(block)), left)
		if _, err := f.Write(block[:n]); err != nil {
			f.Close()
			return 0, err
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return 8 + int64(header.Len()) + off, nil
}

// writePyTorchZip writes a zip like torch.save does: archive/data.pkl, a
// state dict of U8 tensors, with each tensor's bytes stored uncompressed in
// archive/data/<key>.
func writePyTorchZip(path string, size int64) (int64, error) {
	const chunk = 64 << 20
	var sizes []int64
	for off := int64(0); off < size; off += chunk {
		sizes = append(sizes, min(chunk, size-off))
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err == nil {
		_, err = w.Write(stateDictPickle(sizes))
	}
	block := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{2})
	_, _ = rng.Read(block)
	for i, n := range sizes {
		if err != nil {
			break
		}
		if w, err = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/" + strconv.Itoa(i), Method: zip.Store}); err != nil {
			break
		}
		for left := n; left > 0 && err == nil; left -= min(int64(len(block)), left) {
			binary.LittleEndian.PutUint64(block, uint64(left)+uint64(i)<<40)
			_, err = w.Write(block[:min(int64(len(block)), left)])
		}
	}
	if err == nil {
		if w, err = zw.CreateHeader(&zip.FileHeader{Name: "archive/version", Method: zip.Store}); err == nil {
			_, err = w.Write([]byte("3\n"))
		}
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// stateDictPickle is the protocol 2 pickle of an OrderedDict of U8 tensors
// with the given sizes, each in its own storage.
func stateDictPickle(sizes []int64) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.WriteByte('X')
		binary.Write(&b, binary.LittleEndian, uint32(len(s)))
		b.WriteString(s)
	}
	long := func(n int64) {
		b.WriteByte('J')
		binary.Write(&b, binary.LittleEndian, int32(n))
	}
	b.WriteString("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(")
	for i, n := range sizes {
		str(fmt.Sprintf("layer.%d.weight", i))
		b.WriteString("ctorch._utils\n_rebuild_tensor_v2\n((")
		str("storage")
		b.WriteString("ctorch\nByteStorage\n")
		str(strconv.Itoa(i))
		str("cpu")
		long(n)
		b.WriteString("tQ")
		long(0)
		b.WriteString("(")
		long(n)
		b.WriteString("t(K\x01t\x89h\x00)RtR")
	}
	b.WriteString("u.")
	return b.Bytes()
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}}
	mult := int64(1)
	for _, u := range units {
		if t, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = t, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, errors.New("size must be positive")
	}
	return n * mult, nil
}
