/*
 * io.h - the two transports: a FastCGI request (libfcgi) and a plain CGI run (environment,
 * stdin, stdout). Each fills a struct req, calls app_handle() and flushes the answer.
 */
#ifndef PTS_CGI_IO_H
#define PTS_CGI_IO_H

#include <fcgiapp.h>

/* Answer one accepted FastCGI request (the caller finishes it). */
void io_serve_fcgx(FCGX_Request *r);

/* Answer the one request of a plain CGI run. 0, or -1 when stdout failed. */
int io_serve_cgi(void);

#endif
