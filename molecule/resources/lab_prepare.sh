#!/usr/bin/env bash
# Lab prepare steps inside one VM, run by the scenarios' prepare playbooks with
# ansible.builtin.script: one SSH round trip for what would be a dozen Ansible
# tasks (each costs seconds in a TCG VM). Every step is safe to run again.
#
#   --condor-user             the condor user and group (system ids), as HTCondor's RPM makes them
#   --dnsmasq                 start the image's dnsmasq (answers A and PTR queries from /etc/hosts)
#   --slurm CONTROLLER        a one-node Slurm cluster on CONTROLLER: slurm.conf and cgroup.conf, munge
#                             (with the key in /etc/munge/munge.key: prepare gives the cluster's VMs one),
#                             slurmctld and slurmd on CONTROLLER itself; then wait until CONTROLLER is
#                             idle in sinfo
#   --slurm-bin DIR           links to the Slurm client commands in DIR, as at sites whose Slurm is
#                             not in /usr/bin
#   --account NAME:UID[:KEY]  a login account; KEY (a public key line) goes into its authorized_keys
#   --bosco-sshd              what the OSG documentation asks of a Bosco login node's sshd
#   --no-forwarding NAME      sshd refuses TCP forwarding to NAME (a Match block at the end of sshd_config)
#   --print-host-key          print the ed25519 host public key (what the cluster's admin hands out)
#   --el9-release             on an EL 9 lab host (lab.os=el9): what its rpm database holds on a real
#                             one before anything else, the OS's release package and /bin/sh (test
#                             doubles from the lab mirror, checked with the mirror's key)
set -euo pipefail

condor_user=false dnsmasq=false bosco_sshd=false print_host_key=false el9_release=false
slurm_controller="" slurm_bin="" accounts=() no_forwarding=()
while (($#)); do
  case $1 in
    --condor-user) condor_user=true ;;
    --dnsmasq) dnsmasq=true ;;
    --slurm) slurm_controller=$2; shift ;;
    --slurm-bin) slurm_bin=$2; shift ;;
    --account) accounts+=("$2"); shift ;;
    --bosco-sshd) bosco_sshd=true ;;
    --no-forwarding) no_forwarding+=("$2"); shift ;;
    --print-host-key) print_host_key=true ;;
    --el9-release) el9_release=true ;;
    *) echo "lab_prepare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if $el9_release && ! rpm -q rocky-release >/dev/null 2>&1; then
  mirror=$(cat /etc/dnf/vars/labmirror)
  work=$(mktemp -d)
  # No curl in the image (rpm would need it for URLs): Python fetches.
  for path in RPM-GPG-KEY-OSG-HTC-SITE-LAB el/9/BaseOS/x86_64/Packages/rocky-release-9.6-1.2.el9.noarch.rpm \
    el/9/BaseOS/x86_64/Packages/bash-5.1.8-9.el9.noarch.rpm; do
    python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
      "$mirror/$path" "$work/${path##*/}"
  done
  rpm --import "$work/RPM-GPG-KEY-OSG-HTC-SITE-LAB"
  rpm --checksig "$work"/*.rpm >/dev/null
  rpm --install "$work"/*.rpm 2>/dev/null
  rm -rf "$work"
fi

if $condor_user; then
  # As condor.spec's %pre (v24.0.23): system ids picked by useradd, not fixed ones.
  getent group condor >/dev/null || groupadd --system condor
  getent passwd condor >/dev/null \
    || useradd --system --gid condor --home-dir /var/lib/condor --no-create-home \
      --shell /usr/sbin/nologin --comment "Owner of HTCondor Daemons" condor
fi

for account in "${accounts[@]}"; do
  IFS=: read -r name uid key <<<"$account"
  getent passwd "$name" >/dev/null || useradd --uid "$uid" --create-home --shell /bin/bash "$name"
  if [[ -n $key ]]; then
    ssh_dir=/home/$name/.ssh
    install -d -m 0700 -o "$name" -g "$name" "$ssh_dir"
    touch "$ssh_dir/authorized_keys"
    grep -qxF "$key" "$ssh_dir/authorized_keys" || echo "$key" >>"$ssh_dir/authorized_keys"
    chown "$name:$name" "$ssh_dir/authorized_keys"
    chmod 0600 "$ssh_dir/authorized_keys"
  fi
done

sshd_changed=false
if $bosco_sshd; then
  # hosted-ce.md: the CE's SSH sessions forward a port back to it and multiplex.
  printf 'AllowTcpForwarding yes\nMaxSessions 10\n' >/etc/ssh/sshd_config.d/50-bosco.conf
  sshd_changed=true
fi
for name in "${no_forwarding[@]}"; do
  # At the end of sshd_config: a Match block in a file included at its top
  # would also take in the main file's settings.
  if ! grep -qx "Match User $name" /etc/ssh/sshd_config; then
    printf '\nMatch User %s\n    AllowTcpForwarding no\n' "$name" >>/etc/ssh/sshd_config
  fi
  sshd_changed=true
done
if $sshd_changed; then
  sshd -t
  systemctl reload ssh
fi

if $dnsmasq; then
  systemctl start dnsmasq
fi

if [[ -n $slurm_bin ]]; then
  install -d -m 0755 "$slurm_bin"
  for command in sbatch scancel scontrol sinfo squeue; do
    ln -sfn "/usr/bin/$command" "$slurm_bin/$command"
  done
fi

if [[ -n $slurm_controller ]]; then
  cat >/etc/slurm/slurm.conf <<EOF
# Lab Slurm cluster: one controller and compute node, $slurm_controller.
ClusterName=lab
SlurmctldHost=$slurm_controller
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
NodeName=$slurm_controller CPUs=1 State=UNKNOWN
PartitionName=osg Nodes=$slurm_controller Default=YES MaxTime=INFINITE State=UP
EOF
  # slurmd of Debian 12 (Slurm 22.05) does not start in the VMs without these.
  printf 'CgroupPlugin=cgroup/v2\nIgnoreSystemd=yes\n' >/etc/slurm/cgroup.conf
  # Restarted: prepare may just have given it the run's key.
  systemctl enable munge
  systemctl restart munge
  [[ $(hostname -s) == "$slurm_controller" ]] && systemctl enable --now slurmctld slurmd
  for _ in $(seq 60); do
    sinfo --noheader --responding --states=idle --format=%n 2>/dev/null | grep -qx "$slurm_controller" && break
    sleep 2
  done
  sinfo --noheader --responding --states=idle --format=%n | grep -qx "$slurm_controller" \
    || { echo "lab_prepare.sh: $slurm_controller is not idle in sinfo after 120 s" >&2; exit 1; }
fi

if $print_host_key; then
  cat /etc/ssh/ssh_host_ed25519_key.pub
fi
