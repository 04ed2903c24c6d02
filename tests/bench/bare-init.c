/* bare-init: /init of the boot benchmark's baseline VM.
 *
 * The baseline is QEMU booting the same kernel, with the same machine,
 * accelerator and kernel command line as our VMs, into an initrd that
 * holds only this program. It does nothing but power the guest off, so
 * the time from starting QEMU to QEMU exiting is the cost of the kernel
 * and the hypervisor alone; tests/bench/bench-boot.sh compares our
 * launch-to-agent-handshake time against it.
 *
 * Static (no loader, no libraries in the initrd). No output: the initrd
 * has no /dev/console, and the kernel's own "reboot: Power down" line on
 * the serial console is what proves this program ran.
 */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	/* ACPI power-off; QEMU exits. Should it fail, a reboot also ends
	 * QEMU, which runs with -no-reboot. */
	(void)reboot(RB_POWER_OFF);
	(void)reboot(RB_AUTOBOOT);
	/* PID 1 must not return (the kernel would panic, then reboot after
	 * panic=1 s, which would still end QEMU but slower and noisily) */
	for (;;)
		pause();
}
