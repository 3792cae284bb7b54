/* api.h — the handlers of API v1 (docs/api.md), one group per file; http.c's route table maps
 * methods and paths to them. */
#ifndef KGRADE_API_H
#define KGRADE_API_H

#include "http.h"

/* api_eval.c: single evaluations */
void api_eval_submit(struct http_req *rq, struct http_reply *rp);    /* POST /v1/evaluations */
void api_eval_list(struct http_req *rq, struct http_reply *rp);      /* GET /v1/evaluations */
void api_eval_get(struct http_req *rq, struct http_reply *rp);       /* GET /v1/evaluations/{id} */
void api_eval_cancel(struct http_req *rq, struct http_reply *rp);    /* DELETE /v1/evaluations/{id} */

/* api_batch.c: batches */
void api_batch_submit(struct http_req *rq, struct http_reply *rp);   /* POST /v1/batches */
void api_batch_get(struct http_req *rq, struct http_reply *rp);      /* GET /v1/batches/{id} */
void api_batch_cancel(struct http_req *rq, struct http_reply *rp);   /* DELETE /v1/batches/{id} */
void api_batch_results(struct http_req *rq, struct http_reply *rp);  /* GET /v1/batches/{id}/results */

/* api_info.c: registry, health, metrics */
void api_info_problems(struct http_req *rq, struct http_reply *rp);  /* GET /v1/problems */
void api_info_problem(struct http_req *rq, struct http_reply *rp);   /* GET /v1/problems/{id} */
void api_info_health(struct http_req *rq, struct http_reply *rp);    /* GET /v1/health */
void api_info_metrics(struct http_req *rq, struct http_reply *rp);   /* GET /metrics */

/* events.c: Server-Sent Events */
void events_stream(struct http_req *rq, struct http_reply *rp);      /* GET /v1/events */

#endif
