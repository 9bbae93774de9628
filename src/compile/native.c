/*
 * The native backend: the instruction program written out as C, compiled
 * by the system compiler into a shared object, loaded with dlopen.
 *
 * The C does exactly what the instruction program does, statement for
 * statement and in the same order (no -ffast-math, no contraction into
 * fused multiply-adds), so both backends give bit-identical results; the
 * tests compare them byte for byte. What it saves is the interpreter's
 * work: decoding, dispatch and operand indices become straight-line code
 * with constants inlined.
 *
 * Objects are cached (src/util/cache.c: the folder and its safety checks):
 * <cache>/<key>.so beside <key>.c, the key a hash of the source (which
 * names the compiler command). A cached object is used
 * only when its source equals the generated one byte for byte, so a hash
 * collision or a damaged cache costs a compile, never a wrong answer.
 *
 * Generating the source to compare is the cost of asking whether an object
 * exists (15 ms of fceri_ji's 110 ms without integration, 3,680
 * reactions), which `--backend auto` asks on every run. So each object
 * built or used gets a hint <fingerprint>.hint, the fingerprint a hash of
 * the program's code and the compiler command: auto generates the source
 * only when the hint is there. The hint decides nothing else: the source
 * is still compared, and a program whose object has no hint (built before
 * hints) runs on the instruction program until --backend native uses it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "program.h"
#include "vm.h"

extern char **environ;

/* Statements per generated function. GCC's alias walking and dead-store
 * passes grow faster than linearly with a function's size: the 1,000-species
 * network compiles in 4.5 s with 100 per function, 12.9 s with 1,000. The
 * calls between chunks cost nothing measurable. */
#define CHUNK_STATEMENTS 100

/* -O1: on straight-line code -O2 takes 40% longer to compile (3.1 s vs
 * 4.5 s for the 1,000-species benchmark network) for no measurable speed;
 * no -ffast-math and no FMA contraction, to keep the VM's exact results. */
#define NATIVE_FLAGS "-O1 -std=c11 -fPIC -shared -ffp-contract=off -fno-math-errno"

typedef void (*section_fn)(double *v);
typedef void (*sum_fn)(const double *v, const double *coef, double *out);

struct sg_native {
    void *handle;
    section_fn section[4]; /* assignments, rates, roots, Jacobian partials */
    sum_fn rhs_sum;        /* ydot from rates and scaled stoichiometry */
    sum_fn jac_sum;        /* Jacobian values from partials */
};

/* ------------------------------------------------------------ emitting */

typedef struct emitter {
    FILE *out;
    const sg_program *p;
    const unsigned char *is_const; /* slot -> holds a literal constant */
    const unsigned char *is_local; /* slot -> a C local of its chunk, not in v */
    int statements;                /* in the current chunk function */
    int chunks;                    /* chunk functions emitted so far */
} emitter;

static void operand(emitter *e, int slot)
{
    double x = e->p->base[slot];
    if (e->is_const[slot] && isfinite(x))
        fprintf(e->out, "(%a)", x);
    else if (e->is_local[slot])
        fprintf(e->out, "t%d", slot);
    else
        fprintf(e->out, "v[%d]", slot);
}

static const char *fn_name(int fn)
{
    switch (fn) {
    case FN_EXP: return "exp";
    case FN_LOG: return "log";
    case FN_LOG10: return "log10";
    case FN_SQRT: return "sqrt";
    case FN_ABS: return "fabs";
    case FN_FLOOR: return "floor";
    case FN_CEIL: return "ceil";
    case FN_SIN: return "sin";
    case FN_COS: return "cos";
    case FN_TAN: return "tan";
    case FN_TANH: return "tanh";
    case FN_ASIN: return "asin";
    case FN_ACOS: return "acos";
    case FN_ATAN: return "atan";
    case FN_FACTORIAL: return "sg_factorial";
    }
    return NULL;
}

static const char *infix(int op)
{
    switch (op) {
    case OP_ADD: return " + ";
    case OP_SUB: return " - ";
    case OP_MUL: return " * ";
    case OP_DIV: return " / ";
    case OP_LT: return " < ";
    case OP_LE: return " <= ";
    case OP_GT: return " > ";
    case OP_GE: return " >= ";
    case OP_EQ: return " == ";
    case OP_NE: return " != ";
    }
    return NULL;
}

/* One statement with the meaning of the instruction (see SG_OPERATIONS in
 * program.c and sg_op_apply in expr/eval.c). */
static void emit_instr(emitter *e, const sg_instr *i)
{
    FILE *o = e->out;
    if (e->is_local[i->dst])
        fprintf(o, "  const double t%d = ", i->dst);
    else
        fprintf(o, "  v[%d] = ", i->dst);
    switch ((sg_opcode)i->op) {
    case OP_COPY: operand(e, i->a); break;
    case OP_NEG: fputs("-", o); operand(e, i->a); break;
    case OP_NOT: operand(e, i->a); fputs(" == 0.0", o); break;
    case OP_SQUARE: operand(e, i->a); fputs(" * ", o); operand(e, i->a); break;
    case OP_POW:
    case OP_MIN:
    case OP_MAX:
        fputs(i->op == OP_POW ? "pow(" : i->op == OP_MIN ? "sg_min(" : "sg_max(", o);
        operand(e, i->a);
        fputs(", ", o);
        operand(e, i->b);
        fputs(")", o);
        break;
    case OP_AND:
    case OP_OR:
        operand(e, i->a);
        fputs(i->op == OP_AND ? " != 0.0 && " : " != 0.0 || ", o);
        operand(e, i->b);
        fputs(" != 0.0", o);
        break;
    case OP_FN:
        fprintf(o, "%s(", fn_name(i->fn));
        operand(e, i->a);
        fputs(")", o);
        break;
    case OP_IF:
        operand(e, i->a);
        fputs(" != 0.0 ? ", o);
        operand(e, i->b);
        fputs(" : ", o);
        operand(e, i->c);
        break;
    default:
        operand(e, i->a);
        fputs(infix(i->op), o);
        operand(e, i->b);
        break;
    }
    fputs(";\n", o);
}

/* Chunked functions: a section or a sum is split into functions of at most
 * CHUNK_STATEMENTS statements, called in order by its entry function. */
static void open_chunk(emitter *e, const char *params)
{
    fprintf(e->out, "static __attribute__((noinline)) void c%d(%s)\n{\n", e->chunks++, params);
    e->statements = 0;
}

static void statement_room(emitter *e, const char *params)
{
    if (e->statements >= CHUNK_STATEMENTS) {
        fputs("}\n\n", e->out);
        open_chunk(e, params);
    }
    e->statements++;
}

static void close_chunks(emitter *e, int first, const char *entry, const char *params,
                         const char *args)
{
    fputs("}\n\n", e->out);
    fprintf(e->out, "void %s(%s)\n{\n", entry, params);
    for (int k = first; k < e->chunks; k++)
        fprintf(e->out, "  c%d(%s);\n", k, args);
    fputs("}\n\n", e->out);
}

/* The chunk of the kth instruction written (code[emit_order[k]]), as
 * emit_section splits the sections. */
static int chunk_of(const sg_program *p, int k)
{
    const int bounds[4] = {p->n_assign, p->n_rhs, p->n_roots, p->n_code};
    int sec = 0, begin = 0;
    while (sec < 3 && k >= bounds[sec])
        begin = bounds[sec++];
    return sec * (p->n_code / CHUNK_STATEMENTS + 1) + (k - begin) / CHUNK_STATEMENTS;
}

/* Which temporaries can live in C locals: written by the code, read only
 * by instructions of the same chunk, and not read from v by anyone else
 * (the sums, root functions and triggers read v). Keeping them out of
 * memory is what lets the compiler allocate registers, and keeps it fast:
 * thousands of stores to one array make its alias analysis quadratic. */
static int find_locals(const sg_program *p, unsigned char *is_local)
{
    int *reader = sg_malloc(sizeof *reader * ((size_t)p->nslots + 1));
    if (!reader)
        return -1;
    enum { NO_READER = -1, SHARED = -2 };
    for (int s = 0; s < p->nslots; s++)
        reader[s] = NO_READER;
    for (int k = 0; k < p->n_code; k++) {
        const sg_instr *i = &p->code[p->emit_order[k]];
        int ops[3] = {i->a, i->b, i->c}, chunk = chunk_of(p, k);
        for (int o = 0; o < 3; o++) {
            int s = ops[o];
            if (s < 0)
                continue;
            reader[s] = reader[s] == NO_READER || reader[s] == chunk ? chunk : SHARED;
        }
    }
    for (int k = 0; k < p->nroots; k++)
        reader[p->root_slot[k]] = SHARED;
    for (int k = 0; k < p->ntriggers; k++)
        reader[p->trigger_slot[k]] = SHARED;
    for (int k = 0; k < p->st_start[p->nstate]; k++)
        reader[p->st_rate[k]] = SHARED;
    for (int k = 0; k < p->jt_start[p->nnz]; k++)
        reader[p->jt_slot[k]] = SHARED;
    for (int k = 0; k < p->n_code; k++) {
        int d = p->code[p->emit_order[k]].dst;
        is_local[d] = d >= p->nmodel_slots && reader[d] == chunk_of(p, k);
    }
    sg_free(reader);
    return 0;
}

static void emit_section(emitter *e, int sec, int begin, int end)
{
    static const char params[] = "double *restrict v";
    char entry[32];
    int first = e->chunks;
    open_chunk(e, params);
    for (int k = begin; k < end; k++) {
        statement_room(e, params);
        emit_instr(e, &e->p->code[e->p->emit_order[k]]);
    }
    snprintf(entry, sizeof entry, "sg_native_section%d", sec);
    close_chunks(e, first, entry, params, "v");
}

/* out[r] = 0.0 + coef[k] * v[slot[k]] + ... over k in [start[r], start[r+1]):
 * the order of the interpreter's loop, starting from 0.0 as it does (so a
 * sum of -0.0 terms is +0.0 in both). */
static void emit_sum(emitter *e, const char *entry, int rows, const int *start,
                     const int *slot)
{
    static const char params[] =
        "const double *restrict v, const double *restrict coef, double *restrict out";
    int first = e->chunks;
    open_chunk(e, params);
    for (int r = 0; r < rows; r++) {
        statement_room(e, params);
        fprintf(e->out, "  out[%d] = 0.0", r);
        for (int k = start[r]; k < start[r + 1]; k++)
            fprintf(e->out, " + coef[%d] * v[%d]", k, slot[k]);
        fputs(";\n", e->out);
    }
    close_chunks(e, first, entry, params, "v, coef, out");
}

static int emit_source(const sg_program *p, const char *compile_command, char **text,
                       size_t *len)
{
    unsigned char *is_const = sg_calloc((size_t)p->nslots + 1, 1);
    unsigned char *is_local = sg_calloc((size_t)p->nslots + 1, 1);
    FILE *o = NULL;
    if (!is_const || !is_local || find_locals(p, is_local) != 0 ||
        !(o = open_memstream(text, len))) {
        sg_free(is_const);
        sg_free(is_local);
        return -1;
    }
    /* a constant: a slot the compiler added (not a model slot: states,
     * time and parameters are model slots) that no instruction writes */
    for (int s = p->nmodel_slots; s < p->nslots; s++)
        is_const[s] = 1;
    for (int k = 0; k < p->n_setup; k++)
        is_const[p->setup[k].dst] = 0;
    for (int k = 0; k < p->n_code; k++)
        is_const[p->code[k].dst] = 0;

    emitter e = {.out = o, .p = p, .is_const = is_const, .is_local = is_local};
    /* the command comes from $SIGODE_CC: a star-slash in it would end the
     * comment (and what follows would be compiled), a control character
     * would make the line unreadable */
    fputs("/* Generated by sigode " SIGODE_VERSION " (native backend); do not edit.\n"
          " * Built with: ",
          o);
    for (const char *c = compile_command; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            fputc('?', o);
        else if (*c == '*' && c[1] == '/')
            fputs("* ", o); /* "* /" */
        else
            fputc(*c, o);
    }
    fprintf(o, "\n"
               " * %d slots, %d states, %d instructions, %d Jacobian entries. */\n"
               "#include <math.h>\n\n",
            p->nslots, p->nstate, p->n_code, p->nnz);
    /* min and max as sg_op_apply defines them (NaN propagates) */
    fputs("static inline double sg_min(double a, double b)\n"
          "{ return a < b ? a : (b < a ? b : (isnan(a) ? a : b)); }\n"
          "static inline double sg_max(double a, double b)\n"
          "{ return a > b ? a : (b > a ? b : (isnan(a) ? a : b)); }\n"
          "static inline double sg_factorial(double x) { return tgamma(x + 1.0); }\n\n",
          o);
    emit_section(&e, 0, 0, p->n_assign);
    emit_section(&e, 1, p->n_assign, p->n_rhs);
    emit_section(&e, 2, p->n_rhs, p->n_roots);
    emit_section(&e, 3, p->n_roots, p->n_code);
    emit_sum(&e, "sg_native_rhs_sum", p->nstate, p->st_start, p->st_rate);
    emit_sum(&e, "sg_native_jac_sum", p->nnz, p->jt_start, p->jt_slot);
    int bad = ferror(o);
    bad |= fclose(o) != 0;
    sg_free(is_const);
    sg_free(is_local);
    if (bad) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- caching */

/* Objects are loaded into the process, so everything in the cache is
 * checked before use (sg_cache_open, sg_cache_open_file), and an object
 * is dlopen()ed through the descriptor that was checked
 * (/proc/self/fd/N), never by name. */

/* 1 when the cache file `name` (checked) holds exactly `len` bytes equal to `text`. */
static int file_equals(int dfd, const char *name, const char *text, size_t len)
{
    int fd = sg_cache_open_file(dfd, name, NULL);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char buf[65536];
    size_t pos = 0, got;
    int same = 1;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (pos + got > len || memcmp(buf, text + pos, got) != 0)
            same = 0;
        pos += got;
    }
    same = same && !ferror(f) && pos == len;
    fclose(f);
    return same;
}

static uint64_t hash_instrs(uint64_t h, const sg_instr *code, int n)
{
    for (int k = 0; k < n; k++) { /* field by field: the struct has padding */
        const int32_t w[5] = {code[k].op | code[k].fn << 8, code[k].dst, code[k].a, code[k].b,
                              code[k].c};
        h = sg_hash_words(h, w, sizeof w);
    }
    return h;
}

/* The hint's name: the program's code, constants and sums, and the command. */
static void hint_name(const sg_program *p, const char *command, char *name, size_t size)
{
    const int counts[] = {p->nslots, p->nmodel_slots, p->nstate, p->n_setup, p->n_assign,
                          p->n_rhs, p->n_roots, p->n_code, p->nnz};
    uint64_t h = sg_hash_fnv1a(SG_FNV1A_START, command, strlen(command));
    h = sg_hash_words(h, counts, sizeof counts);
    h = hash_instrs(h, p->setup, p->n_setup);
    h = hash_instrs(h, p->code, p->n_code);
    h = sg_hash_words(h, p->base, sizeof(double) * (size_t)p->nslots);
    h = sg_hash_words(h, p->st_start, sizeof(int) * ((size_t)p->nstate + 1));
    h = sg_hash_words(h, p->st_rate, sizeof(int) * (size_t)p->st_start[p->nstate]);
    h = sg_hash_words(h, p->jt_start, sizeof(int) * ((size_t)p->nnz + 1));
    h = sg_hash_words(h, p->jt_slot, sizeof(int) * (size_t)p->jt_start[p->nnz]);
    snprintf(name, size, "%016llx.hint", (unsigned long long)h);
}

/* Best effort: without its hint, auto only misses the object. */
static void keep_hint(int dfd, const char *hint)
{
    if (faccessat(dfd, hint, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
        sg_cache_write_new(dfd, hint, "", 0);
}

/* The compiler: $SIGODE_CC, else $CC, else cc (one word, looked up in PATH). */
static const char *compiler_name(void)
{
    const char *cc = getenv("SIGODE_CC");
    if (!cc || !*cc)
        cc = getenv("CC");
    return cc && *cc ? cc : "cc";
}

/* Runs `cc FLAGS -o so src -lm` with its output in `log`. */
static sg_status run_compiler(const char *cc, const char *src, const char *so, const char *log,
                              sg_error *err)
{
    char flags[] = NATIVE_FLAGS, *save = NULL;
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)cc;
    for (char *f = strtok_r(flags, " ", &save); f && argc < 24; f = strtok_r(NULL, " ", &save))
        argv[argc++] = f;
    argv[argc++] = "-o";
    argv[argc++] = (char *)so;
    argv[argc++] = (char *)src;
    argv[argc++] = "-lm";
    argv[argc] = NULL;

    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return sg_error_nomem(err);
    pid_t pid;
    int rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log,
                                              O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (rc == 0)
        rc = posix_spawnp(&pid, cc, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "native backend: cannot run the C compiler '%s': %s", cc,
                            strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "native backend: waitpid: %s",
                                strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return SG_OK;
    /* the compiler's first line says why (127: not found by the shell) */
    char first[256] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        if (!fgets(first, sizeof first, f))
            first[0] = '\0';
        fclose(f);
        first[strcspn(first, "\n")] = '\0';
    }
    return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                        "native backend: the C compiler '%s' failed (%s %d)%s%s", cc,
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                        first[0] ? ": " : "", first);
}

/* dlopen()s the cache object `name` through the descriptor just checked. */
static sg_status load_object(int dfd, const char *name, sg_native **out, sg_error *err)
{
    int fd = sg_cache_open_file(dfd, name, NULL);
    if (fd < 0)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "native backend: %s is not a file owned by this user and "
                            "writable only by it",
                            name);
    char via[64];
    snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
    void *h = dlopen(via, RTLD_NOW | RTLD_LOCAL);
    close(fd);
    const char *so = name;
    if (!h)
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "native backend: %s", dlerror());
    sg_native *n = sg_calloc(1, sizeof *n);
    if (!n) {
        dlclose(h);
        return sg_error_nomem(err);
    }
    n->handle = h;
    static const char *const names[4] = {"sg_native_section0", "sg_native_section1",
                                         "sg_native_section2", "sg_native_section3"};
    int missing = 0;
    /* POSIX guarantees object and function pointers convert through dlsym */
    for (int k = 0; k < 4; k++)
        missing |= !(*(void **)&n->section[k] = dlsym(h, names[k]));
    missing |= !(*(void **)&n->rhs_sum = dlsym(h, "sg_native_rhs_sum"));
    missing |= !(*(void **)&n->jac_sum = dlsym(h, "sg_native_jac_sum"));
    if (missing) {
        sg_native_unload(n);
        return sg_error_set(err, SG_ERR_IO, NULL, 0, 0,
                            "native backend: %s lacks the generated functions", so);
    }
    *out = n;
    return SG_OK;
}

sg_status sg_native_build(sg_program *p, int only_cached, sg_error *err)
{
    if (p->native)
        return SG_OK;
    if (p->ndelays > 0) /* OP_DELAY reads the solver's history: VM only */
        return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                            "the native backend does not run models with delay(x, tau) (this "
                            "one has %d)",
                            p->ndelays);
    const char *cc = compiler_name();
    /* the whole command goes into the source (and so the cache key): a long
     * $SIGODE_CC is not cut, or two compilers could share an object */
    size_t command_size = strlen(cc) + sizeof " " NATIVE_FLAGS " -lm";
    char *command = sg_malloc(command_size);
    if (!command)
        return sg_error_nomem(err);
    snprintf(command, command_size, "%s " NATIVE_FLAGS " -lm", cc);
    char dir[3072], src[64], so[64], tmp_src[96], tmp_so[96], log[96], hint[64];
    char at_src[160], at_so[160], at_log[160];
    char *text = NULL;
    size_t len = 0;
    int dfd = -1;
    hint_name(p, command, hint, sizeof hint);
    sg_status st = sg_cache_open("native backend", dir, sizeof dir, &dfd, err);
    if (st == SG_OK && only_cached && faccessat(dfd, hint, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
        goto done; /* no object was built or used for this program */
    if (st == SG_OK && emit_source(p, command, &text, &len) != 0)
        st = sg_error_nomem(err);
    if (st != SG_OK)
        goto done;
    uint64_t key = sg_hash_fnv1a(SG_FNV1A_START, text, len);
    snprintf(src, sizeof src, "%016llx.c", (unsigned long long)key);
    snprintf(so, sizeof so, "%016llx.so", (unsigned long long)key);
    /* the .c is renamed into place after the .so: a matching .c means a
     * complete object beside it */
    if (file_equals(dfd, src, text, len) && load_object(dfd, so, &p->native, NULL) == SG_OK) {
        keep_hint(dfd, hint);
        goto done;
    }
    if (only_cached)
        goto done;
    sg_cache_remove_stale(dfd);
    long pid = (long)getpid();
    snprintf(tmp_src, sizeof tmp_src, "tmp-%ld-%016llx.c", pid, (unsigned long long)key);
    snprintf(tmp_so, sizeof tmp_so, "tmp-%ld-%016llx.so", pid, (unsigned long long)key);
    snprintf(log, sizeof log, "tmp-%ld-%016llx.log", pid, (unsigned long long)key);
    /* the compiler reaches the files through this process's descriptor of
     * the checked folder, not through its name */
    snprintf(at_src, sizeof at_src, "/proc/%ld/fd/%d/%s", pid, dfd, tmp_src);
    snprintf(at_so, sizeof at_so, "/proc/%ld/fd/%d/%s", pid, dfd, tmp_so);
    snprintf(at_log, sizeof at_log, "/proc/%ld/fd/%d/%s", pid, dfd, log);
    unlinkat(dfd, tmp_src, 0);
    if (sg_cache_write_new(dfd, tmp_src, text, len) != 0) {
        st = sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "native backend: cannot write %s/%s: %s",
                          dir, tmp_src, strerror(errno));
        goto cleanup;
    }
    unlinkat(dfd, tmp_so, 0);
    unlinkat(dfd, log, 0);
    if ((st = run_compiler(cc, at_src, at_so, at_log, err)) != SG_OK)
        goto cleanup;
    if (renameat(dfd, tmp_so, dfd, so) != 0 || renameat(dfd, tmp_src, dfd, src) != 0) {
        st = sg_error_set(err, SG_ERR_IO, NULL, 0, 0, "native backend: cannot rename into %s: %s",
                          dir, strerror(errno));
        goto cleanup;
    }
    if ((st = load_object(dfd, so, &p->native, err)) == SG_OK)
        keep_hint(dfd, hint);
cleanup:
    unlinkat(dfd, tmp_src, 0);
    unlinkat(dfd, tmp_so, 0);
    unlinkat(dfd, log, 0);
done:
    if (dfd >= 0)
        close(dfd);
    free(text);
    sg_free(command);
    return st;
}

void sg_native_unload(sg_native *n)
{
    if (!n)
        return;
    if (n->handle)
        dlclose(n->handle);
    sg_free(n);
}

/* ---------------------------------------------------------- evaluation */

int sg_native_exec(const sg_program *p, int end, double *v)
{
    const int bounds[4] = {p->n_assign, p->n_rhs, p->n_roots, p->n_code};
    int k = 0;
    while (k < 4 && bounds[k] < end)
        k++;
    if (k == 4 || bounds[k] != end)
        return -1; /* not a section boundary */
    for (int s = 0; s <= k; s++)
        p->native->section[s](v);
    return 0;
}

void sg_native_rhs_sum(const sg_program *p, const double *v, const double *st_scaled,
                       double *ydot)
{
    p->native->rhs_sum(v, st_scaled, ydot);
}

void sg_native_jac_sum(const sg_program *p, const double *v, const double *jt_scaled,
                       double *values)
{
    p->native->jac_sum(v, jt_scaled, values);
}

/* ------------------------------------------------------------- public */

sg_status sg_model_set_backend(sg_model *model, sg_backend backend, sg_error *err)
{
    sg_program *p = model->program;
    if (backend == SG_BACKEND_NATIVE)
        return sg_native_build(p, 0, err);
    if (backend != SG_BACKEND_VM)
        return sg_error_set(err, SG_ERR_USAGE, NULL, 0, 0, "unknown backend %d", (int)backend);
    sg_native_unload(p->native);
    p->native = NULL;
    return SG_OK;
}

sg_status sg_model_use_cached_native(sg_model *model, sg_error *err)
{
    return sg_native_build(model->program, 1, err);
}

sg_backend sg_model_backend(const sg_model *model)
{
    return model->program->native ? SG_BACKEND_NATIVE : SG_BACKEND_VM;
}

int sg_model_vm_machine_code(const sg_model *model)
{
    const sg_vm *vm = model->program->vm;
    return vm && sg_vm_jit_size(vm) > 0;
}
