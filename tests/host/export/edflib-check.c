/*
 * Reads an EDF+ file with EDFlib (Teunis van Beelen's reference reader, the
 * library behind EDFbrowser; Debian package libedf-dev) and prints what it
 * found as JSON, for tests/host/export/edf.test.ts. EDFlib refuses a file
 * that breaks the EDF+ rules (header fields, TALs, time-keeping), so a file
 * it opens as EDF+ is one standard tools read.
 *
 *   cc -o edflib-check edflib-check.c -ledf && ./edflib-check FILE
 */
#include <stdio.h>
#include <string.h>
#include <edflib.h>

static void str(const char *name, const char *s, int comma) {
    printf("\"%s\":\"", name);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s >= 32) putchar(*s);
    }
    printf("\"%s", comma ? "," : "");
}

int main(int argc, char **argv) {
    struct edf_hdr_struct h;
    if (argc < 2) return 2;
    if (edfopen_file_readonly(argv[1], &h, EDFLIB_READ_ALL_ANNOTATIONS) < 0) {
        printf("{\"error\":%d}\n", h.filetype);
        return 1;
    }
    printf("{\"filetype\":%d,\"signals\":%d,\"records\":%lld,\"recordDuration100ns\":%lld,\"fileDuration100ns\":%lld,", h.filetype, h.edfsignals,
           h.datarecords_in_file, h.datarecord_duration, h.file_duration);
    printf("\"start\":[%d,%d,%d,%d,%d,%d],\"subsecond100ns\":%lld,", h.startdate_year, h.startdate_month, h.startdate_day, h.starttime_hour,
           h.starttime_minute, h.starttime_second, h.starttime_subsecond);
    str("patientcode", h.patientcode, 1);
    str("gender", h.gender, 1);
    str("birthdate", h.birthdate, 1);
    str("patientName", h.patient_name, 1);
    str("admincode", h.admincode, 1);
    str("technician", h.technician, 1);
    str("equipment", h.equipment, 1);
    str("recordingAdditional", h.recording_additional, 1);
    printf("\"signalParams\":[");
    for (int s = 0; s < h.edfsignals; s++) {
        struct edf_param_struct *p = &h.signalparam[s];
        printf("%s{", s ? "," : "");
        str("label", p->label, 1);
        str("dimension", p->physdimension, 1);
        printf("\"physMin\":%g,\"physMax\":%g,\"digMin\":%d,\"digMax\":%d,\"perRecord\":%d,\"samples\":%lld,\"physical\":[", p->phys_min, p->phys_max,
               p->dig_min, p->dig_max, p->smp_in_datarecord, p->smp_in_file);
        static double buf[1 << 20];
        long long n = p->smp_in_file < (1 << 20) ? p->smp_in_file : (1 << 20);
        int got = edfread_physical_samples(h.handle, s, (int)n, buf);
        for (int i = 0; i < got; i++) printf("%s%.4f", i ? "," : "", buf[i]);
        printf("]}");
    }
    printf("],\"annotations\":[");
    for (long long i = 0; i < h.annotations_in_file; i++) {
        struct edf_annotation_struct a;
        edf_get_annotation(h.handle, (int)i, &a);
        printf("%s{\"onset100ns\":%lld,\"duration100ns\":%lld,", i ? "," : "", a.onset, a.duration_l);
        str("text", a.annotation, 0);
        printf("}");
    }
    printf("]}\n");
    edfclose_file(h.handle);
    return 0;
}
