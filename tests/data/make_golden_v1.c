/* Wrote the golden checkpoints of format v1 in tests/data/golden_v1/ (see tests/c/support/golden.h),
 * once, with bnb8 0.1.0. They are committed and must load in every later version: do not re-run this
 * to "refresh" them. A new format version gets its own generator and folder.
 *
 *   make_golden_v1 <output folder> */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/golden.h"

static const char* g_folder;

static void write_goldens(void** state) {
    (void)state;
    int count = 0;
    const golden_case* cases = golden_cases(&count);
    for (int c = 0; c < count; ++c) {
        golden_run run;
        golden_setup(&cases[c], &run);
        for (int step = 0; step < kGoldenSteps; ++step) golden_step(&run);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.safetensors", g_folder, cases[c].file);
        if (bnb_state_save(run.opt, path) != BNB_OK) fail_msg("%s", bnb_last_error_message());
        printf("wrote %s\n", path);
        golden_teardown(&run);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <output folder>\n", argv[0]);
        return 2;
    }
    g_folder = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(write_goldens)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
