package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReviewRefusesOtherSystems: the command's doc (and README's "Build and
// deploy") promise that a BINARY that is not a Linux executable for arm64
// or x86_64 is refused, "rather than found out at the function's first
// cold start". checkELF looks at the ELF type and machine only, so an
// x86-64 or arm64 executable for FreeBSD, OpenBSD or NetBSD (GOOS set to
// another system, or GOOS=linux forgotten on such a machine) is zipped as a
// bootstrap, and Lambda then fails every init with an exec format error.
// (Checked with real binaries too: `GOOS=freebsd GOARCH=amd64 go build`
// and the same for openbsd and netbsd make ELF executables whose OS ABI is
// FreeBSD's, OpenBSD's and NetBSD's, and run zips each of them.)
//
// Right: the binary's ELF OS ABI (e_ident[EI_OSABI]) must be System V (0,
// what the Go linker writes for Linux) or GNU/Linux (3); anything else is
// refused with an error that names the system.
func TestReviewRefusesOtherSystems(t *testing.T) {
	for _, abi := range []elf.OSABI{elf.ELFOSABI_FREEBSD, elf.ELFOSABI_OPENBSD, elf.ELFOSABI_NETBSD} {
		for _, m := range []elf.Machine{elf.EM_X86_64, elf.EM_AARCH64} {
			t.Run(abi.String()+"/"+m.String(), func(t *testing.T) {
				bin := elfFile(t, elf.ET_EXEC, m)
				b, err := os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				b[elf.EI_OSABI] = byte(abi) // what the Go linker writes for that GOOS
				if err := os.WriteFile(bin, b, 0o755); err != nil {
					t.Fatal(err)
				}
				err = run([]string{bin, filepath.Join(t.TempDir(), "f.zip")})
				if err == nil {
					t.Fatalf("run zipped an %v executable for %v as a Lambda bootstrap, want an error: it is not a Linux executable", m, abi)
				}
				if !strings.Contains(strings.ToLower(err.Error()), "linux") {
					t.Errorf("run: %v, want an error that says the binary is not for Linux", err)
				}
			})
		}
	}
	// The Linux ones stay accepted.
	for _, abi := range []elf.OSABI{elf.ELFOSABI_NONE, elf.ELFOSABI_LINUX} {
		bin := elfFile(t, elf.ET_EXEC, elf.EM_X86_64)
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		b[elf.EI_OSABI] = byte(abi)
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := run([]string{bin, filepath.Join(t.TempDir(), "f.zip")}); err != nil {
			t.Errorf("run with OS ABI %v: %v, want it accepted", abi, err)
		}
	}
}
