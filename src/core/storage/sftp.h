/* sftp.h: the SFTP backend, for find.c's fallback. Internal to
 * src/core/storage/. */
#ifndef RS_STORAGE_SFTP_H
#define RS_STORAGE_SFTP_H

#include "storage/backend.h"

struct rs_ssh;

/* Open the SFTP backend on `ssh` (borrowed) for the storage under `root`. */
int rs_storage_open_sftp(struct rs_storage **out, struct rs_ssh *ssh, const char *root);

/* Walk the storage under `root` over SFTP into `sink`. */
int rs_storage_sftp_read(struct rs_ssh *ssh, const char *root, unsigned what,
			 struct rs_storage_sink *sink);

#endif
