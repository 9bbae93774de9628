/*
 * sigode ensemble and sigode gsa in the command table: their options for
 * --help, `sigode help`, the man page and the completion, and the hand-over
 * to their own parser (study.c), which reads the same option names and
 * runs them across MPI ranks (share.c).
 *
 * The dispatcher parses the command line with these tables first (unknown
 * or misspelled options, --help), so the table and study.c's getopt_long
 * table must name the same options: test_cli checks that every option
 * listed here is accepted by study.c and the man page test that the
 * documentation lists exactly these.
 */
#include <string.h>

#include "cli/cli.h"
#include "cli/study.h"

/* The options are parsed for real by study_parse; here they are only
 * recognised. */
static int accept_option(cli *c, const char *opt, const char *value)
{
    (void)c, (void)opt, (void)value;
    return 0;
}

#define O(name, metavar, help) {name, metavar, help, accept_option}

static const cli_option design_options[] = {
    O("samples", "N", "parameter sets to draw (at least 2)"),
    O("seed", "S", "seed of the design (default 1); the same seed gives the same samples "
                   "whatever --jobs and the number of MPI ranks; also seeds each run's "
                   "choice among model events due at once with equal priority"),
    O("sampler", "sobol|lhs|random", "quasi-random Sobol points (GSL gsl_qrng, the default), "
                                     "Latin hypercube, or pseudo-random (gsl_rng)"),
    O("params", "ID,...|all", "the uncertain quantities to vary (default all that carry an "
                              "'uncertainty')"),
    O("readout", "ID,...", "outputs to summarise (gsa: ID@T, an output at a time)"),
    O("select", "ID,...", "the same as --readout"),
    O("jobs", "N", "threads (default: one per core)"),
    O("checkpoint", "FILE", "record every finished sample in FILE"),
    O("resume", NULL, "with --checkpoint: run only the samples FILE does not hold"),
    {NULL, NULL, NULL, NULL}};

static const cli_option experiment_options[] = {
    O("scenario", "ID", "the model's scenario to run for each sample (time course or scan)"),
    O("set", "NAME=VALUE", "override a parameter or initial value for every sample"),
    O("t-end", "T", "end time"),
    O("points", "N", "output times of a time course"),
    O("target", "NAME", "a dose scan of NAME for each sample"),
    O("values", "V,V,...", "the scanned values"),
    O("from", "A", "the first scanned value"),
    O("to", "B", "the last scanned value"),
    O("log", NULL, "scanned values evenly spaced on a log scale"),
    O("preequilibrate", NULL, "start each sample from its own steady state"),
    O("rtol", "X", "relative tolerance (default 1e-6)"),
    O("atol", "X", "absolute tolerance (default 1e-9)"),
    O("max-steps", "N", "solver steps between outputs (default 100000)"),
    O("backend", "auto|vm|native", "instruction program or compiled C"),
    {NULL, NULL, NULL, NULL}};

static const cli_option ensemble_outputs[] = {
    O("quantiles", "Q,...", "quantile bands to write, each in (0, 1) (default 0.05,0.5,0.95)"),
    O("fit", "hill", "on a scan: fit a Hill curve per sample; the IC50 median and interval"),
    O("output", "FILE", "the bands (default standard output)"),
    O("format", "csv|tsv|json", "table format (default csv)"),
    O("samples-output", "FILE", "every sample's parameters and readouts"),
    O("plot", "FILE.png|FILE.svg", "shaded quantile bands with the median line"),
    {NULL, NULL, NULL, NULL}};

static const cli_option gsa_outputs[] = {
    O("method", "sobol|morris", "Sobol indices (Saltelli design, Jansen estimators) or Morris "
                                "elementary effects (mu*, mu, sigma)"),
    O("levels", "P", "Morris grid levels (default 4)"),
    O("bootstrap", "B", "Sobol: bootstrap resamples for the intervals (default 500)"),
    O("confidence", "C", "Sobol: confidence level of the intervals (default 0.95)"),
    O("quantiles", "Q,...", "not used by gsa (accepted for the shared checkpoint key)"),
    O("output", "FILE", "the index table (default standard output)"),
    O("format", "csv|tsv|json", "table format (default csv)"),
    O("samples-output", "FILE", "every model evaluation's parameters and readouts"),
    O("plot", "FILE.png|FILE.svg", "bar plot of the indices with their intervals"),
    O("fit", "hill", "on a scan readout: the Hill fit's IC50 as the output"),
    {NULL, NULL, NULL, NULL}};

static const cli_group design_group = {"sampling options", design_options};
static const cli_group experiment_group = {"experiment and solver options", experiment_options};
static const cli_group ensemble_group = {"ensemble output options", ensemble_outputs};
static const cli_group gsa_group = {"gsa options", gsa_outputs};
static const cli_group *const ensemble_groups[] = {&design_group, &experiment_group,
                                                   &ensemble_group, NULL};
static const cli_group *const gsa_groups[] = {&gsa_group, &design_group, &experiment_group,
                                              NULL};

/* study.c parses the original command line (cli_argc/cli_argv, kept by
 * main.c) after the dispatcher has checked it against the tables above. */
static int run_study(cli *c)
{
    int argc = cli_argc;
    char **argv = cli_argv;
    int rc = study_mpi_init(&argc, &argv);
    study_warnings = c->opt.warnings; /* told by the dispatcher at the end */
    if (rc == 0)
        rc = !strcmp(c->command, "ensemble") ? cmd_ensemble(argc, argv) : cmd_gsa(argc, argv);
    study_mpi_finalize();
    return rc;
}

const cli_command cli_cmd_ensemble = {
    "ensemble", "MODEL --samples N [--scenario ID | --target NAME ...] [options]",
    "Quantile bands of the outputs over samples of the model's uncertain quantities (their "
    "'uncertainty' distributions); with --fit hill on a scan, the IC50 distribution. "
    "'mpirun -np K sigode ensemble ...' shares the samples among ranks.",
    ensemble_groups, CLI_OWN_ARGS, run_study, NULL};

const cli_command cli_cmd_gsa = {
    "gsa", "MODEL --method sobol|morris --readout ID@T,... [--samples N] [options]",
    "Global sensitivity of readouts to the uncertain quantities: Sobol first-order and total "
    "indices with bootstrap intervals, or Morris elementary effects; also across MPI ranks.",
    gsa_groups, CLI_OWN_ARGS, run_study, NULL};
