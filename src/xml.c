/* xml.c - (being written) */
