package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesOtherSystems: found in review (issue 14): checkELF looked at the
// ELF type and machine only, so an x86-64 or arm64 executable for FreeBSD,
// OpenBSD or NetBSD (GOOS set to another system, or GOOS=linux forgotten on
// such a machine) was zipped as a bootstrap, and Lambda would then fail
// every init with an exec format error. `GOOS=freebsd GOARCH=amd64 go build`,
// and the same for openbsd and netbsd, make ELF executables whose OS ABI
// (e_ident[EI_OSABI]) is that system's. Only System V (0, what the Go linker
// writes for Linux) and GNU/Linux (3) are accepted.
func TestRefusesOtherSystems(t *testing.T) {
	tests := []struct {
		abi     elf.OSABI
		machine elf.Machine
		ok      bool
	}{
		{elf.ELFOSABI_NONE, elf.EM_X86_64, true},
		{elf.ELFOSABI_NONE, elf.EM_AARCH64, true},
		{elf.ELFOSABI_LINUX, elf.EM_X86_64, true},
		{elf.ELFOSABI_LINUX, elf.EM_AARCH64, true},
		{elf.ELFOSABI_FREEBSD, elf.EM_X86_64, false},
		{elf.ELFOSABI_FREEBSD, elf.EM_AARCH64, false},
		{elf.ELFOSABI_OPENBSD, elf.EM_X86_64, false},
		{elf.ELFOSABI_OPENBSD, elf.EM_AARCH64, false},
		{elf.ELFOSABI_NETBSD, elf.EM_X86_64, false},
		{elf.ELFOSABI_NETBSD, elf.EM_AARCH64, false},
	}
	for _, tt := range tests {
		t.Run(tt.abi.String()+"/"+tt.machine.String(), func(t *testing.T) {
			bin := elfFile(t, elf.ET_EXEC, tt.machine)
			b, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			b[elf.EI_OSABI] = byte(tt.abi) // what the Go linker writes for that GOOS
			if err := os.WriteFile(bin, b, 0o755); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			err = run([]string{bin, filepath.Join(dir, "f.zip")})
			switch {
			case tt.ok && err != nil:
				t.Errorf("run: got %v, want the executable zipped", err)
			case !tt.ok && err == nil:
				t.Errorf("run: zipped it, want an error: it is not a Linux executable")
			case !tt.ok && (!strings.Contains(err.Error(), "not a Linux executable") ||
				!strings.Contains(err.Error(), tt.abi.String())):
				t.Errorf("run: got %v, want an error that says it is not a Linux executable and names %v", err, tt.abi)
			}
			if !tt.ok {
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Errorf("left behind: %v", ents)
				}
			}
		})
	}
}
