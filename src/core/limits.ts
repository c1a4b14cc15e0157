/**
 * The device's hard safety limits for electrical stimulation: one place,
 * each number with its source. No program, button or host command can go
 * past them; a therapist's caps in a program may only lower them
 * (`src/core/program/`), and the stim supervisor (`src/core/stim/`) clamps
 * every output to the smallest applicable limit.
 *
 * Sources used below:
 * - [IEC] IEC 60601-2-10:2012 (nerve and muscle stimulators): 201.12.4.4.101
 *   energy per pulse <= 300 mJ into 500 Ohm; 201.12.1.101 output starts at
 *   its minimum; 201.7.9.2.101 g) current density above 2 mA/cm^2 needs the
 *   operator's attention.
 * - [NT] Verity Medical NeuroTrac MyoPlus Pro / Continence user manuals:
 *   0-90 mA into 500 Ohm, 50-450 us, 2-100 Hz, ramps 0.5-9 s, 0.5 mA steps.
 * - [Clin] the clinical parameter survey in docs/safety.md: pelvic-floor
 *   strengthening 35-50 Hz, 200-450 us; pain/relaxation 1-10 Hz; sessions
 *   15-30 min, once or twice a day.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** [mA] Peak current of one phase, constant current into 500 Ohm. [NT] 0-90 mA. */
export const AMPLITUDE_MAX_MA = 90

/** [mA] Smallest step a button press changes intensity by. [NT] 0.5 mA steps. */
export const AMPLITUDE_STEP_MA = 0.5

/** [us] Width of one phase of the biphasic pulse. [NT] 50-450 us. */
export const PULSE_WIDTH_MIN_US = 50
export const PULSE_WIDTH_MAX_US = 450

/**
 * [Hz] Pulse rate. [NT] 2-100 Hz; we allow 1 Hz for relaxation/pain
 * programs (1-10 Hz band used for pelvic pain, docs/safety.md).
 */
export const FREQUENCY_MIN_HZ = 1
export const FREQUENCY_MAX_HZ = 100

/**
 * [uC] Charge in one phase (amplitude x pulse width). 40 uC is just under
 * [NT]'s 90 mA x 450 us corner (40.5 uC), so the two maxima cannot be used
 * together; pelvic-floor protocols stay far below it (e.g. 40 mA x 250 us =
 * 10 uC).
 */
export const CHARGE_PER_PHASE_MAX_UC = 40

/** [Ohm] The load the standard rates outputs into. [IEC] */
export const RATED_LOAD_OHM = 500

/**
 * [mJ] Energy of one biphasic pulse into RATED_LOAD_OHM. [IEC] allows 300 mJ;
 * at our corners (90 mA, 450 us, two phases) it is 3.6 mJ, so this cap is
 * never the binding one, but it is checked so a change elsewhere cannot
 * silently break the standard.
 */
export const PULSE_ENERGY_MAX_MJ = 300

/**
 * [mA] Average of the absolute current (both phases), 2 x charge x rate.
 * 40 uC at 100 Hz gives 8 mA; the cap keeps the corner of charge and rate
 * from being combined beyond that.
 */
export const AVERAGE_CURRENT_MAX_MA = 8

/** [mA/cm^2] RMS current density over the electrode area. [IEC] 2 mA/cm^2. */
export const CURRENT_DENSITY_MAX_MA_PER_CM2 = 2

/**
 * [mA/s] Fastest rise of the output amplitude, on ramps and on button
 * presses alike. [NT] ramps are at least 0.5 s to a comfortable 20-40 mA,
 * i.e. up to 80 mA/s; we are gentler: 30 mA/s reaches 40 mA in 1.3 s.
 */
export const AMPLITUDE_RAMP_MAX_MA_PER_S = 30

/** [mA] The output always starts here on enable and on any mode change. [IEC] */
export const AMPLITUDE_START_MA = 0

/** [ms] Stimulation time in one session. Clinical sessions are 15-30 min; 60 min is the hard stop. */
export const SESSION_STIM_MAX_MS = 60 * 60 * 1000

/** [ms] Shortest time from the end of one stim session to the start of the next (at most 2 sessions a day with margin). */
export const SESSION_REST_MIN_MS = 4 * 60 * 60 * 1000

/**
 * [Ohm] Load impedance accepted while stimulating. Vaginal probe loads are a
 * few hundred Ohm; under 100 Ohm means a short, over 2500 Ohm a poor or
 * lost contact (the module reports lead-off separately).
 */
export const LOAD_IMPEDANCE_MIN_OHM = 100
export const LOAD_IMPEDANCE_MAX_OHM = 2500

/** [ms] Ramp times a program may set. [NT] 0.5-9 s. */
export const RAMP_MIN_MS = 500
export const RAMP_MAX_MS = 9000

/** [ms] The stimulator module's own watchdog: output off this long after the last keep-alive. */
export const STIM_WATCHDOG_TIMEOUT_MS = 250

/** [ms] The supervisor must have the output at zero this soon after any stop cause (e-stim issue). */
export const FAULT_TO_OFF_MAX_MS = 50

/**
 * [ms] Longest silence from the stimulator module (no status, impedance or
 * fault report) the supervisor accepts while stimulating; longer means the
 * bus or the module is lost, and it stops. Engineering choice: the firmware
 * reads the module's status at 10 Hz or more while stimulating, so 500 ms is
 * at least 5 missed reads, and twice the module's own watchdog
 * (STIM_WATCHDOG_TIMEOUT_MS), which has cut the output by then anyway if
 * the keep-alives did not get through either (docs/safety.md).
 */
export const STIM_STATUS_TIMEOUT_MS = 500

/**
 * [ms] The stim supervisor's tick while the output is on
 * (src/stim/stim-output.ts): ramps, the plan, the silence timeouts above
 * and the stim time are stepped on it, so a timeout is seen at the first
 * tick after it expires, up to this late. Engineering choice within the
 * supervisor's 20-50 ms.
 */
export const STIM_TICK_MS = 25

/** Stimulation output parameters the limits apply to. */
export interface StimOutput {
    amplitudeMa: number
    pulseWidthUs: number
    frequencyHz: number
}

/** [uC] charge of one phase */
export function chargePerPhaseUc(o: StimOutput): number {
    return (o.amplitudeMa * o.pulseWidthUs) / 1000
}

/** [mA] average absolute current of biphasic pulses */
export function averageCurrentMa(o: StimOutput): number {
    return (2 * chargePerPhaseUc(o) * o.frequencyHz) / 1000
}

/** [mA] rms current of biphasic rectangular pulses: I x sqrt(2 x pw x f) */
export function rmsCurrentMa(o: StimOutput): number {
    return o.amplitudeMa * Math.sqrt((2 * o.pulseWidthUs * o.frequencyHz) / 1e6)
}

/** [mA/cm^2] rms current density over an electrode of `areaCm2` (IEC 60601-2-10 201.7.9.2.101 g)) */
export function rmsCurrentDensityMaPerCm2(o: StimOutput, areaCm2: number): number {
    return rmsCurrentMa(o) / areaCm2
}

/** [mJ] energy of one biphasic pulse into RATED_LOAD_OHM */
export function pulseEnergyMj(o: StimOutput): number {
    const amps = o.amplitudeMa / 1000
    return amps * amps * RATED_LOAD_OHM * ((2 * o.pulseWidthUs) / 1e6) * 1000
}
