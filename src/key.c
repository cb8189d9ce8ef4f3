/* key.c - (being written) */
