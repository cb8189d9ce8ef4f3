/* store.c - (being written) */
