/* apply.c - (being written) */
