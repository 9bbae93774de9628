# Integrates a model written by modelgen.py with R deSolve's lsoda.
#
#   Rscript desolve_run.R MODEL.R [--set NAME=VALUE]... [--t-end T] [--points N]
#           [--rtol X] [--atol X] [--min-reps N] [--min-seconds S]
#           [--max-seconds S] [--out FILE.csv]
#
# The analytic Jacobian is passed (jactype "fullusr"), the most favourable
# setting for lsoda. Times the lsoda call alone (minimum and median over
# repetitions) and prints one JSON line.
suppressPackageStartupMessages(library(deSolve))

args <- commandArgs(trailingOnly = TRUE)
source(args[1])
opt <- list(t_end = 10, points = 101, rtol = 1e-6, atol = 1e-9, min_reps = 1,
            min_seconds = 1, max_seconds = 120, out = NULL)
sets <- character(0)
i <- 2
while (i <= length(args)) {
  key <- args[i]
  val <- args[i + 1]
  i <- i + 2
  switch(key,
    "--set" = { sets <- c(sets, val) },
    "--t-end" = { opt$t_end <- as.numeric(val) },
    "--points" = { opt$points <- as.integer(val) },
    "--rtol" = { opt$rtol <- as.numeric(val) },
    "--atol" = { opt$atol <- as.numeric(val) },
    "--min-reps" = { opt$min_reps <- as.integer(val) },
    "--min-seconds" = { opt$min_seconds <- as.numeric(val) },
    "--max-seconds" = { opt$max_seconds <- as.numeric(val) },
    "--out" = { opt$out <- val },
    stop(paste("unknown option", key)))
}
p <- p0
y <- y0
for (s in sets) {
  kv <- strsplit(s, "=", fixed = TRUE)[[1]]
  k <- match(kv[1], param_names)
  if (!is.na(k)) p[k] <- as.numeric(kv[2]) else y[match(kv[1], state_names)] <- as.numeric(kv[2])
}
n <- length(y)
times <- opt$t_end * (0:(opt$points - 1)) / (opt$points - 1)
times[opt$points] <- opt$t_end
idx <- cbind(jac_rows, jac_cols)
func <- function(t, y, parms) list(model_rhs(t, y, parms))
jacfunc <- function(t, y, parms) {
  J <- matrix(0, n, n)
  J[idx] <- model_jac_values(t, y, parms)
  J
}
runs <- numeric(0)
start <- as.numeric(Sys.time())
repeat {
  t0 <- as.numeric(Sys.time())
  out <- lsoda(y = y, times = times, func = func, parms = p, rtol = opt$rtol,
               atol = opt$atol, jacfunc = jacfunc, jactype = "fullusr")
  runs <- c(runs, as.numeric(Sys.time()) - t0)
  if ((length(runs) >= opt$min_reps && sum(runs) >= opt$min_seconds) ||
      as.numeric(Sys.time()) - start > opt$max_seconds) break
}
if (!is.null(opt$out)) {
  colnames(out) <- c("time", state_names)
  write.table(format(out, digits = 17), opt$out, sep = ",", quote = FALSE, row.names = FALSE)
}
ist <- attr(out, "istate")
ok <- ist[1] == 2
cat(sprintf(paste0('{"tool": "desolve_lsoda", "desolve": "%s", "success": %s, ',
                   '"sim_min_s": %.6g, "sim_median_s": %.6g, "reps": %d, "steps": %d, ',
                   '"rhs": %d, "jac": %d, "rtol": %g, "atol": %g}\n'),
            as.character(packageVersion("deSolve")), if (ok) "true" else "false",
            min(runs), median(runs), length(runs), ist[2], ist[3], ist[14],
            opt$rtol, opt$atol))
