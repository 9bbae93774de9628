/* Forward sensitivities (see include/sigode.h): placeholder until the
 * CVODES driver lands; every call refuses. */
#include "scenario.h"

struct sg_sens {
    int nparams;
};

struct sg_sens_result {
    int ntimes, noutputs, nparams;
};

static sg_status unsupported(sg_error *err)
{
    return sg_error_set(err, SG_ERR_UNSUPPORTED, NULL, 0, 0,
                        "sensitivities are not implemented yet");
}

sg_sens *sg_sens_create(sg_model *model, const sg_options *opt, const char *const *params,
                        int nparams, sg_error *err)
{
    unsupported(err);
    return NULL;
}

sg_sens *sg_sens_clone(const sg_sens *sens, sg_error *err)
{
    unsupported(err);
    return NULL;
}

void sg_sens_free(sg_sens *sens) { sg_free(sens); }
int sg_sens_param_count(const sg_sens *sens) { return sens->nparams; }
const char *sg_sens_param_id(const sg_sens *sens, int k) { return NULL; }

sg_status sg_sens_run(sg_sens *sens, const sg_sens_request *req, sg_sens_result **out,
                      sg_error *err)
{
    *out = NULL;
    return unsupported(err);
}

sg_status sg_sens_steady(sg_sens *sens, const sg_sens_request *req, sg_sens_result **out,
                         sg_steady_info *info, sg_stability *stability, sg_error *err)
{
    *out = NULL;
    return unsupported(err);
}

void sg_sens_result_free(sg_sens_result *res) { sg_free(res); }
int sg_sens_result_times(const sg_sens_result *res) { return res->ntimes; }
int sg_sens_result_outputs(const sg_sens_result *res) { return res->noutputs; }
int sg_sens_result_params(const sg_sens_result *res) { return res->nparams; }
double sg_sens_result_time(const sg_sens_result *res, int i) { return 0; }
const char *sg_sens_result_output_id(const sg_sens_result *res, int j) { return NULL; }
const char *sg_sens_result_param_id(const sg_sens_result *res, int k) { return NULL; }
double sg_sens_result_value(const sg_sens_result *res, int i, int j) { return 0; }
double sg_sens_result_deriv(const sg_sens_result *res, int i, int j, int k) { return 0; }
const double *sg_sens_result_derivs(const sg_sens_result *res, int i, int j) { return NULL; }
