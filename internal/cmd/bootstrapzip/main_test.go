package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfFile writes a minimal 64-bit little-endian ELF file (a header and a
// body, no sections) of the given type and machine, with mode 0644, and
// returns its path.
func elfFile(t *testing.T, typ elf.Type, machine elf.Machine) string {
	t.Helper()
	h := elf.Header64{
		Type:    uint16(typ),
		Machine: uint16(machine),
		Version: uint32(elf.EV_CURRENT),
		Ehsize:  64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Repeat("the function's code ", 100))
	p := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	for _, m := range []elf.Machine{elf.EM_AARCH64, elf.EM_X86_64} {
		t.Run(m.String(), func(t *testing.T) {
			bin := elfFile(t, elf.ET_EXEC, m)
			want, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "f.zip")
			if err := run([]string{bin, out}); err != nil {
				t.Fatalf("run: %v", err)
			}
			z, err := zip.OpenReader(out)
			if err != nil {
				t.Fatal(err)
			}
			defer z.Close()
			if len(z.File) != 1 || z.File[0].Name != "bootstrap" {
				var names []string
				for _, f := range z.File {
					names = append(names, f.Name)
				}
				t.Fatalf("entries: got %q, want [\"bootstrap\"]", names)
			}
			f := z.File[0]
			// The source file is 0644: the entry is 0755 all the same.
			if got := f.Mode(); got != 0o755 {
				t.Errorf("mode: got %v, want -rwxr-xr-x", got)
			}
			if !f.Modified.Equal(epoch) {
				t.Errorf("modified: got %v, want %v", f.Modified, epoch)
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("content: got %d bytes, want the binary's %d", len(got), len(want))
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o644 {
				t.Errorf("zip file mode: got %v, want -rw-r--r--", got)
			}
		})
	}
}

// TestRunReproducible: the same binary, zipped twice at different times,
// gives the same bytes.
func TestRunReproducible(t *testing.T) {
	bin := elfFile(t, elf.ET_EXEC, elf.EM_AARCH64)
	dir := t.TempDir()
	var zips [2][]byte
	for i := range zips {
		out := filepath.Join(dir, "f.zip")
		if err := run([]string{bin, out}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		var err error
		if zips[i], err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
		// Another modification time for the second run.
		if err := os.Chtimes(bin, epoch.AddDate(30, 0, 0), epoch.AddDate(30, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Errorf("two zips of one binary differ (%d and %d bytes)", len(zips[0]), len(zips[1]))
	}
}

func TestRunRefuses(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args func(t *testing.T) []string
		want string // in the error
	}{
		{"no arguments", func(t *testing.T) []string { return nil }, "usage"},
		{"missing binary", func(t *testing.T) []string {
			return []string{filepath.Join(t.TempDir(), "none"), "out.zip"}
		}, "not a Linux executable"},
		{"not ELF", func(t *testing.T) []string { return []string{notELF, "out.zip"} }, "not a Linux executable"},
		{"object file", func(t *testing.T) []string {
			return []string{elfFile(t, elf.ET_REL, elf.EM_X86_64), "out.zip"}
		}, "not an executable"},
		{"other machine", func(t *testing.T) []string {
			return []string{elfFile(t, elf.ET_EXEC, elf.EM_386), "out.zip"}
		}, "EM_386"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := tt.args(t)
			if len(args) == 2 {
				args[1] = filepath.Join(dir, args[1])
			}
			err := run(args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: got %v, want an error containing %q", err, tt.want)
			}
			// Nothing is left in the output directory.
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}
