/*
 * Drawing through gnuplot, shared by the line plots (plot.c) and the heat
 * maps (heatmap.c): a job owns a script, its data files and a temporary
 * image renamed over the destination only when gnuplot succeeded.
 */
#ifndef SG_PLOT_H
#define SG_PLOT_H

#include <stdio.h>

#include "../util/util.h"

#define GP_MAX_DATA_FILES 8

typedef struct gp_job {
    const char *path;   /* destination */
    int svg;
    char *gnuplot;
    char *script, *image;
    char *data[GP_MAX_DATA_FILES];
    int ndata;
    FILE *out;          /* the script being written */
} gp_job;

/* Checks the extension and finds gnuplot; opens the script, which starts
 * with the terminal (width x height pixels) and output lines. */
sg_status gp_begin(gp_job *job, const char *path, int width, int height, sg_error *err);
/* A new temporary data file open for writing; its name is job->data[i]
 * (i returned through *index). */
FILE *gp_data_file(gp_job *job, int *index, sg_error *err);
/* Writes s as a gnuplot string expression that cannot end early or start
 * a command: single-quoted pieces, each quote as "'" joined with '.',
 * control characters (C0, DEL, C1) written as spaces. NULL is ''. */
void gp_string(FILE *out, const char *s);
/* Closes the script (st: the writing went well), runs gnuplot, renames the
 * image into place, removes the temporaries; returns the final status. */
sg_status gp_finish(gp_job *job, sg_status st, sg_error *err);

/* Okabe-Ito colours (yellow left out: too pale on white), then dash
 * patterns beyond their number. */
#define GP_NCOLOURS 7
extern const char *const gp_colours[GP_NCOLOURS];

#endif
