/** `memaudit doctor`: which backend runs and why, versions, CPU, and what is unavailable. */
import type { CommandModule } from 'yargs';
import { cpus, totalmem } from 'node:os';
import { renderTable } from '../core/format.js';
import { toolVersion } from '../core/version.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';

export interface DoctorReport {
  memauditVersion: string;
  backend: string;
  reason: string;
  skipped: { backend: string; reason: string }[];
  tfjsVersion: string;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
}

export async function doctorReport(args: GlobalArgs): Promise<DoctorReport> {
  // TensorFlow.js loads here, not when the CLI starts: only commands that run a model pay for it.
  const { initBackend } = await import('../core/backend.js');
  const info = await initBackend(args.backend);
  const cpuList = cpus();
  return {
    memauditVersion: toolVersion,
    backend: info.backend,
    reason: info.reason,
    skipped: info.skipped,
    tfjsVersion: info.tfjsVersion,
    wasmSimd: info.wasmSimd,
    wasmThreads: info.wasmThreads,
    node: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

export const doctorCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'doctor',
  describe: 'Show the TensorFlow.js backend in use and why, versions, CPU, and what is unavailable',
  handler: (args) =>
    runCommand('doctor', async () => {
      const report = await doctorReport(args);
      emit(args, report, () => {
        const rows: (string | number)[][] = [
          ['item', 'value'],
          ['memaudit', report.memauditVersion],
          ['backend', `${report.backend} (${report.reason})`],
          ['tfjs', report.tfjsVersion],
          ['node', report.node],
          ['cpu', `${report.cpus} x ${report.cpuModel}`],
          ['memory', `${report.memoryGiB} GiB`],
        ];
        if (report.backend === 'wasm') rows.push(['wasm SIMD / threads', `${report.wasmSimd} / ${report.wasmThreads}`]);
        for (const s of report.skipped) rows.push([`not used: ${s.backend}`, s.reason]);
        let text = renderTable(rows);
        if (report.backend !== 'tensorflow') {
          text +=
            'The native backend (@tensorflow/tfjs-node) is faster. On a machine with internet access:\n' +
            '  npm install @tensorflow/tfjs-node   (allow its install script: it downloads libtensorflow)\n';
        }
        return text;
      });
    }),
};
