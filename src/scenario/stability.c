/*
 * Linear algebra at a steady state (LAPACK, dense): the Jacobian's
 * eigenvalues (dgeev) for the stability report, and the implicit function
 * theorem's solve (dgesv) for steady-state sensitivities.
 *
 * With conservation laws C x = T (rows of C are left null vectors of the
 * stoichiometry, so C J = 0), J has one zero eigenvalue per law; the others
 * are the eigenvalues of the dynamics within the conserved totals. They
 * are found by dropping the nlaws eigenvalues of smallest modulus.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/lapack.h"
#include "stability.h"

sg_status sg_dense_jacobian(const sg_program *p, const double *v, double t, double *J,
                            sg_error *err)
{
    size_t n = (size_t)p->nstate;
    size_t nst = (size_t)p->st_start[p->nstate], njt = (size_t)p->jt_start[p->nnz];
    if (p->ndelays > 0) /* the eigenvalues of a delay equation are not the Jacobian's */
        return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                            "the model has delay(x, tau): its stability is not that of the "
                            "Jacobian without the delays, and sigode does not compute it");
    double *w = sg_malloc(sizeof(double) * ((size_t)p->nslots + 1));
    double *st = sg_malloc(sizeof(double) * (nst + 1));
    double *jt = sg_malloc(sizeof(double) * (njt + 1));
    double *values = sg_malloc(sizeof(double) * ((size_t)p->nnz + 1));
    if (!w || !st || !jt || !values) {
        sg_free(w);
        sg_free(st);
        sg_free(jt);
        sg_free(values);
        return sg_error_nomem(err);
    }
    memcpy(w, p->base, sizeof(double) * (size_t)p->nslots);
    memcpy(w, v, sizeof(double) * (size_t)p->nmodel_slots);
    sg_program_scale(p, w, st, jt);
    sg_program_jacobian(p, t, v, values, w, jt);
    memset(J, 0, sizeof(double) * n * n);
    for (size_t j = 0; j < n; j++)
        for (int e = p->jac_colptr[j]; e < p->jac_colptr[j + 1]; e++)
            J[j * n + (size_t)p->jac_rowidx[e]] = values[e];
    sg_free(w);
    sg_free(st);
    sg_free(jt);
    sg_free(values);
    return SG_OK;
}

static int by_modulus(const void *a, const void *b)
{
    const double *x = a, *y = b; /* (re, im) pairs */
    double mx = hypot(x[0], x[1]), my = hypot(y[0], y[1]);
    return (mx > my) - (mx < my);
}

sg_status sg_stability_compute(const sg_program *p, const double *v, double t, int nlaws,
                               sg_stability *out, sg_error *err)
{
    memset(out, 0, sizeof *out);
    int n = p->nstate;
    /* with delays the Jacobian's eigenvalues do not decide stability */
    if (n == 0 || n > SG_EIGEN_MAX_STATES || p->ndelays > 0)
        return SG_OK; /* computed = 0 */
    size_t nn = (size_t)n * (size_t)n;
    double *J = sg_malloc(sizeof(double) * nn);
    double *wr = sg_malloc(sizeof(double) * (size_t)n);
    double *wi = sg_malloc(sizeof(double) * (size_t)n);
    double *pairs = sg_malloc(sizeof(double) * 2 * (size_t)n);
    double query;
    int lwork = -1, info = 0, one = 1;
    sg_status st = SG_OK;
    double *work = NULL;
    const sg_lapack *lapack = NULL;
    if (!J || !wr || !wi || !pairs) {
        st = sg_error_nomem(err);
        goto done;
    }
    if ((st = sg_dense_jacobian(p, v, t, J, err)) != SG_OK ||
        (st = sg_lapack_open(&lapack, err)) != SG_OK)
        goto done;
    for (size_t k = 0; k < nn; k++)
        if (!isfinite(J[k]))
            goto done; /* not computed: the Jacobian is not finite there */
    lapack->dgeev("N", "N", &n, J, &n, wr, wi, NULL, &one, NULL, &one, &query, &lwork, &info);
    lwork = info == 0 ? (int)query : 4 * n;
    work = sg_malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    if (!work) {
        st = sg_error_nomem(err);
        goto done;
    }
    lapack->dgeev("N", "N", &n, J, &n, wr, wi, NULL, &one, NULL, &one, work, &lwork, &info);
    if (info != 0)
        goto done; /* QR did not converge: not computed */
    double largest = 0;
    for (int k = 0; k < n; k++) {
        pairs[2 * k] = wr[k];
        pairs[2 * k + 1] = wi[k];
        largest = fmax(largest, hypot(wr[k], wi[k]));
    }
    qsort(pairs, (size_t)n, 2 * sizeof(double), by_modulus);
    out->computed = 1;
    out->tolerance = 1e-8 * largest;
    out->max_real = -INFINITY;
    int first = nlaws < n ? nlaws : n; /* the conserved directions' zeros */
    for (int k = first; k < n; k++) {
        double re = pairs[2 * k], im = pairs[2 * k + 1];
        if (re > out->max_real) {
            out->max_real = re;
            out->max_real_imag = im;
        }
        if (re > out->tolerance)
            out->npositive++;
    }
    if (first == n)
        out->max_real = 0;
    out->unstable = out->npositive > 0;
done:
    sg_free(J);
    sg_free(wr);
    sg_free(wi);
    sg_free(pairs);
    sg_free(work);
    return st;
}

sg_status sg_dense_solve(int n, int nrhs, double *A, double *B, int *singular, sg_error *err)
{
    const sg_lapack *lapack;
    sg_status st = sg_lapack_open(&lapack, err);
    if (st != SG_OK)
        return st;
    int *ipiv = sg_malloc(sizeof(int) * ((size_t)n + 1));
    if (!ipiv)
        return sg_error_nomem(err);
    int info = 0;
    lapack->dgesv(&n, &nrhs, A, &n, ipiv, B, &n, &info);
    sg_free(ipiv);
    *singular = info != 0;
    return SG_OK;
}
