/* trivial_ok: does nothing and exits 0; measures a campaign's fixed cost per run. */
int main(void) { return 0; }
