// Command bootstrapzip writes the deployment package of a Lambda function on
// an OS-only runtime (provided.al2023): a zip whose root holds exactly one
// file, bootstrap, with mode 0755, since Lambda runs that file and a zip made
// on some systems drops its executable bit.
//
//	go run ./internal/cmd/bootstrapzip BINARY OUT.zip
//
// BINARY must be a Linux executable for arm64 or x86_64, such as
// `GOOS=linux go build` makes; anything else is refused, rather than found
// out at the function's first cold start. The entry is dated 1980-01-01
// whatever the file's time, so the same binary always gives the same zip
// (and `sam deploy` skips an upload it already made). OUT.zip is written
// through a temporary file in its directory and renamed, so a failed run
// leaves no partial zip behind.
//
// scripts/build-bootstrap builds the binary and runs this command.
package main

import (
	"archive/zip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// epoch is the date of the zip entry: the earliest an MS-DOS date, which zip
// headers use, can hold.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bootstrapzip:", err)
		os.Exit(1)
	}
}

// run writes the zip of the binary args[0] to args[1].
func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: bootstrapzip BINARY OUT.zip")
	}
	bin, out := args[0], args[1]
	if err := checkELF(bin); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".bootstrapzip-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if err := write(f, bin); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; a zip is no secret.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

// write writes to w a zip holding the file bin as bootstrap, mode 0755.
func write(w io.Writer, bin string) error {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	z := zip.NewWriter(w)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755) // also marks the entry as made on Unix, so the mode is read
	dst, err := z.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	return z.Close()
}

// checkELF reports an error unless bin is a Linux executable (OS ABI System V
// or GNU/Linux) for one of Lambda's architectures.
func checkELF(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable (built without GOOS=linux?): %w", bin, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %v, not an executable", bin, f.Type)
	}
	// The Go linker writes OS ABI System V (0) for Linux, other linkers
	// GNU/Linux (3); FreeBSD, OpenBSD, NetBSD and the like write their own.
	// Lambda could not run those: it would fail every init with an exec
	// format error.
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%s is not a Linux executable: its OS ABI is %v (built without GOOS=linux?)", bin, f.OSABI)
	}
	if f.Machine != elf.EM_AARCH64 && f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is for %v; Lambda runs arm64 (EM_AARCH64) and x86_64 (EM_X86_64)", bin, f.Machine)
	}
	return nil
}
