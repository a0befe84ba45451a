#ifndef CRELAYIO_H
#define CRELAYIO_H
int crelay_placeholder(void);
#endif
