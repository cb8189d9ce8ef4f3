/* snap.c - (being written) */
