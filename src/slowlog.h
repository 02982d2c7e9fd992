/*-------------------------------------------------------------------------
 *
 * slowlog.h
 *	  Slow-query capture: thresholds, ring of slow executions with plans.
 *	  See slowlog.c for the locking protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_SLOWLOG_H
#define MNP_SLOWLOG_H

#include "medianest_perf.h"

#define MNP_SLOW_NONE		0
#define MNP_SLOW_WARNING	1
#define MNP_SLOW_CRITICAL	2

extern void mnp_slowlog_init(void);
extern Size mnp_slowlog_shmem_size(void);
extern void mnp_slowlog_shmem_startup(void);
extern int	mnp_slowlog_level(double duration_ms);
extern int	mnp_slowlog_instrument_options(void);
extern void mnp_slowlog_capture(const mnpExecSample *s, int severity,
								uint64 top_queryid);

#endif							/* MNP_SLOWLOG_H */
