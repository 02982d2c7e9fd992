/*-------------------------------------------------------------------------
 *
 * health.h
 *	  Recommendations, health score and Prometheus metrics: thresholds and
 *	  the session cache of expensive inputs (see health.c), statement
 *	  metrics (see metrics.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_HEALTH_H
#define MNP_HEALTH_H

extern void mnp_health_init(void);

#endif							/* MNP_HEALTH_H */
