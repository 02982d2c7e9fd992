/*-------------------------------------------------------------------------
 *
 * stmt_sample.h
 *	  One executed sample per statement (text with constants, or bound
 *	  parameter values), kept in the statement store for the index advisor.
 *	  See stmt_sample.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_STMT_SAMPLE_H
#define MNP_STMT_SAMPLE_H

#include "executor/execdesc.h"

#include "stmt_store.h"

/* A decoded sample, in palloc'd memory. */
typedef struct mnpSample
{
	char	   *text;			/* statement text, in the server encoding */
	int			nparams;
	Oid		   *types;			/* parameter types */
	char	  **values;			/* text of each value; NULL if SQL NULL or
								 * not kept */
	bool	   *kept;			/* false: the value was not kept */
} mnpSample;

extern void mnp_sample_init(void);
extern void mnp_sample_capture(const mnpStmtKey *key, QueryDesc *qd);
extern bool mnp_sample_fetch(const mnpStmtKey *key, mnpSample *out);

#endif							/* MNP_STMT_SAMPLE_H */
