<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * Process-group hygiene for a worker that leads its own group.
 *
 * A Folk master starts each worker as the leader of a fresh process group. Whatever the worker
 * starts (exec, proc_open, shell pipelines) lands in that group. When the master goes away the
 * worker sees EOF on its task channel; before exiting it ends the rest of its group so that no
 * grandchild outlives it: TERM (+CONT, for stopped members), poll until the group is empty or a
 * short grace ends, then KILL whatever is left.
 *
 * Safety rules:
 * - Nothing happens unless the worker leads its group (pgid == pid). Under a foreign master the
 *   worker may share that master's group, and must never signal it.
 * - Members are signalled one pid at a time (never kill(-pgid), never the worker itself), each
 *   re-checked in /proc right before the signal. While the leader is alive its pgid cannot be
 *   reused, so a process whose pgrp equals it really is a member.
 *
 * Works with ext-posix (posix_getpgid, posix_kill) or without it (/proc and the shell's `kill`).
 * Members are enumerated from /proc/<pid>/stat (field 5, pgrp); zombies count as gone.
 */
final class ProcessGroup
{
    private const SIGKILL = 9;
    private const SIGTERM = 15;
    private const SIGCONT = 18;
    private const SIGNAL_NAMES = [self::SIGKILL => 'KILL', self::SIGTERM => 'TERM', self::SIGCONT => 'CONT'];

    private readonly int $pid;
    /** @var \Closure(string): void */
    private readonly \Closure $log;

    /**
     * @param \Closure(string): void|null $log  receives one diagnostic line at a time
     * @param string                      $proc the procfs mount point
     */
    public function __construct(?\Closure $log = null, private readonly string $proc = '/proc')
    {
        $this->pid = getmypid();
        $this->log = $log ?? static function (string $line): void {
        };
    }

    /** This process's group id, or null if it cannot be determined. */
    public function pgid(): ?int
    {
        if (function_exists('posix_getpgid')) {
            $pgid = posix_getpgid(0);
            if (is_int($pgid)) {
                return $pgid;
            }
        }
        return $this->stat($this->pid)['pgrp'] ?? null;
    }

    public function leadsOwnGroup(): bool
    {
        return $this->pgid() === $this->pid;
    }

    /**
     * Live members of this worker's group other than the worker itself.
     *
     * @return list<int> empty when the worker does not lead its group or /proc is unavailable
     */
    public function members(): array
    {
        $pgid = $this->pgid();
        if ($pgid !== $this->pid) {
            return [];
        }
        $entries = @scandir($this->proc);
        if ($entries === false) {
            return [];
        }
        $members = [];
        foreach ($entries as $entry) {
            if (preg_match('/^[1-9][0-9]*$/', $entry) !== 1) {
                continue;
            }
            $pid = (int) $entry;
            if ($pid !== $this->pid && $this->isLiveMember($pid, $pgid)) {
                $members[] = $pid;
            }
        }
        return $members;
    }

    /**
     * Ends every other member of the group if, and only if, this worker leads it.
     *
     * @param float $graceSeconds how long TERMed members get before KILL
     * @return array{terminated: list<int>, killed: list<int>} the pids signalled
     */
    public function terminateMembers(float $graceSeconds = 0.3): array
    {
        $result = ['terminated' => [], 'killed' => []];
        if (!$this->leadsOwnGroup()) {
            return $result;
        }
        if (!is_dir($this->proc . '/' . $this->pid)) {
            ($this->log)('cannot enumerate the process group: ' . $this->proc . ' is not available');
            return $result;
        }
        $members = $this->members();
        if ($members === []) {
            return $result;
        }
        ($this->log)(sprintf('terminating %d process(es) left in process group %d: %s', count($members), $this->pid, implode(' ', $members)));
        $result['terminated'] = $this->signal($members, self::SIGTERM);
        $this->signal($members, self::SIGCONT);

        $left = $this->waitUntilEmpty($graceSeconds);
        if ($left !== []) {
            ($this->log)(sprintf('killing %d process(es) that survived TERM: %s', count($left), implode(' ', $left)));
            $result['killed'] = $this->signal($left, self::SIGKILL);
            $this->waitUntilEmpty(0.2);
        }
        return $result;
    }

    /** @return list<int> the members still alive when the deadline passed (empty: group is empty) */
    private function waitUntilEmpty(float $seconds): array
    {
        $deadline = hrtime(true) + (int) ($seconds * 1e9);
        while (($left = $this->members()) !== [] && hrtime(true) < $deadline) {
            usleep(5000);
        }
        return $left;
    }

    /**
     * @param list<int> $pids
     * @return list<int> the pids that were still members and got the signal
     */
    private function signal(array $pids, int $signal): array
    {
        $pids = array_values(array_filter($pids, fn (int $p): bool => $p !== $this->pid && $this->isLiveMember($p, $this->pid)));
        if ($pids === []) {
            return [];
        }
        if (function_exists('posix_kill')) {
            foreach ($pids as $pid) {
                posix_kill($pid, $signal);
            }
            return $pids;
        }
        // No ext-posix: the shell's kill builtin, one explicit pid list (never a negative pgid).
        $command = ['/bin/sh', '-c', 'kill -s ' . self::SIGNAL_NAMES[$signal] . ' "$@" 2>/dev/null', 'folk-kill'];
        foreach ($pids as $pid) {
            $command[] = (string) $pid;
        }
        $null = ['file', '/dev/null', 'r'];
        $sink = ['file', '/dev/null', 'w'];
        $process = @proc_open($command, [0 => $null, 1 => $sink, 2 => $sink], $pipes);
        if ($process === false) {
            ($this->log)('cannot signal process group members: neither posix_kill nor proc_open is usable');
            return [];
        }
        proc_close($process);
        return $pids;
    }

    private function isLiveMember(int $pid, int $pgid): bool
    {
        $stat = $this->stat($pid);
        return $stat !== null && $stat['pgrp'] === $pgid && $stat['state'] !== 'Z' && $stat['state'] !== 'X';
    }

    /** @return array{state: string, pgrp: int}|null fields 3 and 5 of /proc/<pid>/stat */
    private function stat(int $pid): ?array
    {
        $line = @file_get_contents($this->proc . '/' . $pid . '/stat');
        if ($line === false) {
            return null;
        }
        // Field 2 (comm) is parenthesised and may itself contain spaces and parentheses.
        $close = strrpos($line, ')');
        if ($close === false) {
            return null;
        }
        $fields = explode(' ', substr($line, $close + 2), 4);
        if (count($fields) < 4) {
            return null;
        }
        return ['state' => $fields[0], 'pgrp' => (int) $fields[2]];
    }
}
