/*
 * The loaded network: every definition of the model file, validated, with
 * expressions bound to value slots. Filled by load.c, read by every later
 * stage.
 *
 * Value slots (one array of doubles per simulation):
 *   [0, nstate)            non-constant species = the CVODE state vector
 *   [nstate, nspecies)     constant species
 *   then compartments, parameters, `time`, assignments, reaction rates;
 *   the compiler appends literal constants and temporaries after those.
 */
#ifndef SG_MODEL_H
#define SG_MODEL_H

#include "../expr/expr.h"

/* Documented limits (models/README.md). */
#define SG_MAX_FILE_BYTES (256L * 1024 * 1024)
#define SG_MAX_ID_LENGTH 255
#define SG_MAX_SYMBOLS 5000000
#define SG_MAX_POINTS 10000000L
/* Dependency entries (state x rate or assignment it depends on) and
 * Jacobian terms the compiler may make: 1,000,000, or 100 per state in
 * larger models. A dense coupling of many species would otherwise take
 * quadratic memory and time from a small file. */
#define SG_MAX_JACOBIAN_TERMS 1000000
#define SG_JACOBIAN_TERMS_PER_STATE 100

typedef struct sg_species_def {
    const char *id;
    double initial;
    int compartment; /* index into compartments */
    int constant;
    const char *unit; /* "" unless the file gives one (the model's conc_unit applies) */
    const char *name, *description; /* text for people ("" if none) */
    int line;
    int slot;
} sg_species_def;

typedef struct sg_compartment_def {
    const char *id;
    double size;
    const char *unit, *name, *description; /* "" if none */
    int line;
    int slot;
} sg_compartment_def;

typedef struct sg_parameter_def {
    const char *id;
    double value;
    const char *unit;
    const char *source;
    const char *mechanism; /* the mechanism it belongs to (verify --falsify), or NULL */
    const char *name, *description; /* "" if none */
    int estimate;          /* `estimate = true`: a parameter for sigode fit --data */
    double lower, upper;   /* its `bounds` */
    int scale;             /* its `scale`: 0 lin, 1 log, 2 log10 */
    int line;
    int slot;
} sg_parameter_def;

typedef struct sg_assignment_def {
    const char *id;
    const char *text;
    const char *unit; /* "" unless the file gives one */
    int line, col;   /* where the expression text starts */
    const char *name, *description; /* "" if none */
    sg_expr *value;  /* bound */
    int slot;
} sg_assignment_def;

typedef struct sg_term {
    int species;     /* index into species */
    double coef;     /* net stoichiometry: products positive */
} sg_term;

typedef struct sg_reaction_def {
    const char *id;
    const char *equation;
    const char *rate_text;
    int line, col;   /* where the rate text starts */
    int reversible;
    sg_term *terms;  /* net, constant species dropped, zeros dropped */
    int nterms;
    sg_expr *rate;   /* bound */
    const char *mechanism; /* the mechanism it belongs to (verify --falsify), or NULL */
    const char *name, *description; /* "" if none */
    int slot;
} sg_reaction_def;

typedef struct sg_set_def {
    const char *name;
    int slot;
    int add;         /* 1: add to the current value instead of setting */
    double value;
} sg_set_def;

typedef struct sg_event_def {
    double at;
    double every;    /* > 0: repeated every `every` time units */
    long count;      /* number of occurrences when repeated (0: until t_end) */
    sg_set_def *sets;
    int nsets;
    int line;
} sg_event_def;

typedef struct sg_scan_def {
    const char *target;
    int slot;
    double *values;
    int count;
    int log_scale;
    int line;
} sg_scan_def;

typedef struct sg_scenario_def {
    const char *id;
    double t_start, t_end;
    long points;
    int preequilibrate;
    sg_set_def *sets;
    int nsets;
    sg_event_def *events;
    int nevents;
    int has_scan;
    sg_scan_def scan;
    const char **readouts;
    int nreadouts;
    int line;
} sg_scenario_def;

typedef struct sg_check_def {
    const char *id;
    const char *scenario; /* default scenario, may be NULL */
    const char *expect;
    sg_expr *tree;        /* bound, with EX_TRAJ nodes */
    int conservation;     /* kind = "conservation": true by construction, exempt
                             from verify --falsify's "no knock-out fails it" */
    const char **knockouts; /* negative controls: perturbations ("ID" or
                               "ID*factor") that must make this check fail */
    int nknockouts;
    int line, col;
} sg_check_def;

/* An initial value given as an expression (SBML initial assignment): a
 * species' `initial`, a parameter's `value` or a compartment's `size`. */
typedef struct sg_init_def {
    int slot;
    const char *text;
    int line, col;
    sg_expr *value;
} sg_init_def;

/* One step of computing initial values: an initial-value expression or an
 * assignment (which initial values may use), in dependency order. */
typedef struct sg_init_step {
    int slot;
    int is_init;      /* 0: an assignment */
    sg_expr *value;
} sg_init_step;

/* dX/dt = rate for a species (its concentration), or a parameter. */
typedef struct sg_rate_rule_def {
    const char *id;   /* the target */
    const char *text;
    int line, col;
    int target_slot;  /* a state */
    sg_expr *rate;
    int slot;         /* where the rate is computed */
} sg_rate_rule_def;

typedef struct sg_event_assign {
    int slot;
    sg_expr *value;
} sg_event_assign;

/* A model event: fires when `trigger` goes from false to true. With a
 * `delay` it executes that long after (the delay is read when it fires);
 * among events due at one time the highest `priority` executes first (SBML
 * Level 3 semantics, sim.c). */
typedef struct sg_trigger_def {
    const char *id;
    const char *name, *description; /* "" if none */
    const char *text;
    int line, col;
    sg_expr *trigger;
    sg_event_assign *assigns;
    int nassigns;
    int initial_value;     /* the trigger's value just before the start */
    int persistent;        /* 0: dropped if the trigger turns false before it executes */
    int use_trigger_time;  /* assignment values read when it fires, not when it executes */
    sg_expr *delay;        /* NULL: none (executes at once) */
    sg_expr *priority;     /* NULL: none */
} sg_trigger_def;

/* A quantity with a distribution (`uncertainty = "..."`). */
typedef struct sg_uncertain_def {
    const char *id;
    sg_symbol_kind kind;
    int slot;
    double nominal;
    sg_distribution dist;
    const char *source;
    int line;
} sg_uncertain_def;

typedef struct sg_program sg_program;

struct sg_model {
    sg_arena *arena;      /* strings and definition arrays */
    sg_pool *pool;        /* bound expressions */
    const char *path;
    const char *name, *description, *time_unit, *conc_unit;
    /* runs_from_zero = true (the SBML import writes it): the model's
     * expressions tell the values delay() reads before the start by
     * `time < 0`, so a run must start at time 0 from its own initial
     * values (no other t_start, no preequilibration) */
    int runs_from_zero;

    sg_species_def *species;
    int nspecies, nstate;
    sg_compartment_def *compartments;
    int ncompartments;
    sg_parameter_def *parameters;
    int nparameters;
    sg_assignment_def *assignments;
    int nassignments;
    int *assignment_order; /* indices in dependency order */
    sg_reaction_def *reactions;
    int nreactions;
    sg_scenario_def *scenarios;
    int nscenarios;
    sg_check_def *checks;
    int nchecks;

    sg_user_fn *functions;
    int nfunctions;
    sg_user_fns user;      /* the same, as the expression stage wants it */
    sg_rate_rule_def *rate_rules;
    int nrate_rules;
    sg_init_def *inits;
    int ninits;
    sg_init_step *init_steps;
    int ninit_steps;
    sg_trigger_def *triggers;
    int ntriggers;
    sg_uncertain_def *uncertain; /* in the arena, room for every quantity */
    int nuncertain;
    int nfluxes;           /* reactions, then rate rules: columns of the stoichiometry */

    sg_map symbols;        /* id -> slot */
    int nslots;            /* model-defined slots */
    int time_slot;
    int first_compartment_slot, first_parameter_slot, first_assignment_slot,
        first_rate_slot;
    double *initial_values; /* nslots, values as written in the file */
    sg_symbol_kind *slot_kind;
    const char **slot_name;
    const char **slot_sbml_id; /* NULL, or the SBML id when it differs (`sbml_id`) */
    int *slot_index;       /* index within its kind's array */

    sg_program *program;   /* compiled right-hand side and Jacobian */
    int read_in_two;       /* libconfig read the text in two threads (sg_cfg_read) */
    int read_in_pieces;    /* its long lists were read in pieces (load.c) */
    /* a model read from the cache: its image, mapped read-only; the
     * model's strings point into it (image.c), so it is unmapped with the
     * model */
    void *image;
    size_t image_len;
};

/* Computes initial values into v (the model's slots): every initial-value
 * expression whose slot is not marked in `fixed` (NULL: none), and the
 * assignments they use, in dependency order. */
void sg_model_initial_values(const sg_model *model, double *v, const unsigned char *fixed);

/* The libconfig text (cfgcheck.c). sg_cfg_precheck, before libconfig
 * reads the text, refuses what libconfig would accept wrongly: @include,
 * whole numbers it would truncate, and control characters in strings (in
 * top->control_*, or at once when top is NULL). Returns 0, or -1 with a 1-based line and
 * column and a message. On 0 it also gives the top-level settings in *top
 * (if not NULL), for sg_cfg_read. sg_cfg_diagnose, after libconfig rejected the
 * text, finds where and why; returns 1 with the place and a message, 0 if
 * it finds nothing (libconfig's own message then stands). */
enum { SG_CFG_MAX_TOP = 64 };
/* A run of a top-level list's elements that libconfig can read on its own
 * (sg_cfg_pieces_start): from its first element's first byte to the comma
 * after its last element (or the list's closing parenthesis). */
typedef struct sg_cfg_piece {
    size_t start, end;
    int line;              /* of the first element's first byte */
    int count;             /* elements */
} sg_cfg_piece;
typedef struct sg_cfg_setting {
    const char *name;      /* into the text, not NUL-terminated */
    size_t name_len;
    size_t start, end;     /* bytes: from its name to the next top-level name */
    int line, col;         /* of its name */
    long tokens;           /* what reading it costs libconfig */
    /* a value written `( e, e, ... )`: its elements in pieces of at most
     * sg_cfg_piece_elements, top->piece[first_piece ..] (list_state 4) */
    int list_state;
    int elements, first_piece, pieces;
} sg_cfg_setting;
typedef struct sg_cfg_top {
    int count;             /* 0: to be read whole (more than SG_CFG_MAX_TOP
                              settings, a name twice, brackets unbalanced) */
    sg_cfg_setting setting[SG_CFG_MAX_TOP];
    sg_cfg_piece *piece;   /* to be freed with sg_cfg_top_free */
    size_t npieces, piece_cap;
    int nomem;             /* no memory for the pieces' table */
    /* the first control character in a string (line 0: none), reported
     * once libconfig has read the text: a syntax error (a missing quote
     * makes a string run over lines) says more and comes first */
    int control_line, control_col;
    char control_msg[200];
} sg_cfg_top;
int sg_cfg_precheck(const char *text, size_t len, int *line, int *col, char *msg,
                    size_t size, sg_cfg_top *top);
int sg_cfg_diagnose(const char *text, size_t len, int *line, int *col, char *msg,
                    size_t size);
void sg_cfg_top_free(sg_cfg_top *top);
/* Elements per piece of a top-level list (sg_cfg_precheck). */
extern int sg_cfg_piece_elements;
enum { SG_CFG_LIST = 4 }; /* sg_cfg_setting.list_state of a list in pieces */

/* Reads the text (len bytes, NUL-terminated; written to and restored
 * before the return) into cfg, with libconfig's CONFIG_OPTION_AUTOCONVERT
 * (cfgread.c). When the text has at least sg_cfg_split_min_bytes, a second
 * thread reads some of the settings that `movable` marks (top->setting[i]
 * may go to side if movable[i]) into side, chosen to share the work:
 * returns 2, and each top-level setting is then in cfg or in side. Returns
 * 1 when cfg holds the whole text, 0 when libconfig refused it (its error
 * is in cfg). cfg is to be destroyed in every case, side only after 2. */
struct config_t;
int sg_cfg_read(char *text, size_t len, const sg_cfg_top *top, const unsigned char *movable,
                struct config_t *cfg, struct config_t *side);
extern size_t sg_cfg_split_min_bytes; /* 1 MiB; 0 (tests) splits every text it can */

/* The pieces of top-level lists (cfgread.c): top->setting[order[k]] for k
 * < norder, in that order (a list may come twice), each piece read into a
 * config of its own whose root holds the one list, its settings' lines
 * those of the file. With `threaded`, a thread reads a few pieces ahead.
 * sg_cfg_pieces_next returns NULL when libconfig refused a piece, when
 * memory ran out, or after the last one; a piece is freed with
 * sg_cfg_piece_free, the reader (and the pieces not taken) with
 * sg_cfg_pieces_stop. The text must stay as it is until then. */
typedef struct sg_cfg_pieces sg_cfg_pieces;
sg_cfg_pieces *sg_cfg_pieces_start(const char *text, const sg_cfg_top *top, const int *order,
                                   int norder, int threaded);
struct config_t *sg_cfg_pieces_next(sg_cfg_pieces *p);
void sg_cfg_piece_free(struct config_t *piece);
/* The loader is done with the piece: freed (by the reading thread, which
 * made it, when there is one). */
void sg_cfg_pieces_done(sg_cfg_pieces *p, struct config_t *piece);
void sg_cfg_pieces_stop(sg_cfg_pieces *p);
/* Maps in the pages of [ptr, ptr + size), memory the loader is about to
 * fill: by the reading thread, before its next piece, when there is one
 * (the kernel's zeroing of them then runs beside the loading), else at
 * once. The memory must stay mapped until sg_cfg_pieces_stop. */
void sg_cfg_pieces_prefault(sg_cfg_pieces *p, void *ptr, size_t size);
extern size_t sg_cfg_piece_min_bytes; /* 1 MiB; 0 (tests): every text it can */
extern int sg_cfg_read_ahead; /* -1: a thread reads ahead when there are 2 cores; 0 no; 1 yes */
/* 1: with a reading thread, the loader reads the next piece itself instead
 * of waiting for it; 0 (tests): it waits. */
extern int sg_cfg_loader_reads;
/* Reads the top-level settings that keep marks (at their own lines) into
 * cfg, to be destroyed in every case. 1 if libconfig read them, 0 if not. */
int sg_cfg_read_rest(const char *text, const sg_cfg_top *top, const unsigned char *keep,
                     struct config_t *cfg);

/* The compiled-model cache (image.c). sg_model_cache_find looks for the
 * image of this text (len bytes) and returns the model it holds, or NULL;
 * *dfd is then the open cache folder (-1 when the cache is off or not
 * usable), name the image's file name and *text_hash the text's hash, for
 * sg_model_cache_store after the text is loaded and compiled (the image
 * holds no copy of the text). $SIGODE_MODEL_CACHE=0 turns it off, =1 uses
 * it for texts of any size (else from 64 KiB). */
int sg_model_cache_enabled(size_t len);
sg_model *sg_model_cache_find(const char *text, size_t len, const char *filename, int *dfd,
                              char *name, size_t name_size, uint64_t *text_hash);
void sg_model_cache_store(int dfd, const char *name, const sg_model *m, size_t len,
                          uint64_t text_hash);
/* Unmaps the image a cached model's strings point into (sg_model_free). */
void sg_model_cache_unmap(sg_model *m);
/* What the calling thread's last load did with the cache: "off",
 * "hit NAME", "miss NAME", "ignored NAME (why)", "stored NAME", ... */
const char *sg_model_cache_outcome(void);

/* Parses "2 A + B <-> C" into net terms. On error returns -1 with the byte
 * offset inside the equation in *err_pos and a message; -2 when out of
 * memory. */
typedef int (*sg_species_lookup)(void *ctx, const char *name, char *msg, size_t size);
int sg_equation_parse(sg_arena *arena, const char *text, sg_species_lookup lookup,
                      void *ctx, int *reversible, sg_term **terms, int *nterms,
                      int *err_pos, char *msg, size_t msgsize);

/* A perturbation named in a check's `knockouts` or by verify --falsify:
 * "ID" (a reaction's rate or a parameter's value x 0) or "ID*FACTOR".
 * Returns 0 (reaction), 1 (parameter), or -1 with a message. */
int sg_knockout_parse(const sg_model *model, const char *text, char *id, double *factor,
                      char *msg, size_t size);

#endif
