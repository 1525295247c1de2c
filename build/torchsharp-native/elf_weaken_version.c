/* Marks one needed symbol version (e.g. GLIBCXX_3.4.32) of an ELF64 shared library as weak, so the dynamic loader
 * accepts the library on hosts whose libstdc++ lacks that version. Usage: elf_weaken_version FILE VERSION */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s FILE VERSION\n", argv[0]); return 2; }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { perror(argv[1]); return 1; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
    unsigned char *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 1; }
    Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
        fprintf(stderr, "%s: not an ELF64 file\n", argv[1]); return 1;
    }
    Elf64_Shdr *sh = (Elf64_Shdr *)(base + eh->e_shoff);
    int changed = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_GNU_verneed) continue;
        const char *strtab = (const char *)(base + sh[sh[i].sh_link].sh_offset);
        unsigned char *p = base + sh[i].sh_offset;
        for (;;) {
            Elf64_Verneed *vn = (Elf64_Verneed *)p;
            unsigned char *q = p + vn->vn_aux;
            for (int a = 0; a < vn->vn_cnt; a++) {
                Elf64_Vernaux *aux = (Elf64_Vernaux *)q;
                if (strcmp(strtab + aux->vna_name, argv[2]) == 0) { aux->vna_flags |= VER_FLG_WEAK; changed++; }
                if (aux->vna_next == 0) break;
                q += aux->vna_next;
            }
            if (vn->vn_next == 0) break;
            p += vn->vn_next;
        }
    }
    munmap(base, (size_t)st.st_size);
    close(fd);
    if (!changed) { fprintf(stderr, "%s: needs no version %s\n", argv[1], argv[2]); return 1; }
    return 0;
}
