/* Uncertainty: distributions, sample designs, ensembles, sensitivity. */
#ifndef SG_UNCERTAINTY_H
#define SG_UNCERTAINTY_H

#include <stdint.h>

#include "../util/util.h"

/* SplitMix64's finaliser (design.c): a hash of a 64-bit value. */
uint64_t sg_mix64(uint64_t x);

#endif
