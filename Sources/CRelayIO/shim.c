#include "CRelayIO.h"
int crelay_placeholder(void) { return 0; }
