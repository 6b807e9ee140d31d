# bash completion for regsweep                              -*- shell-script -*-
# Completes commands and options (asking regsweep itself, so the list
# always matches the binary), and file and directory arguments.

_regsweep()
{
	local cur prev words cword
	_init_completion || return

	local commands="stats plan apply restore gc run config"
	local cmd= w
	for w in "${words[@]:1:cword-1}"; do
		case " $commands " in
		*" $w "*) cmd=$w; break ;;
		esac
	done

	case $prev in
	-c|--config|--password-file|--token-file|--cacert|--cert|--key|--out|--report|\
	--metrics|--html|--ssh-known-hosts|--ssh-key|--ssh-passphrase-file|--registry-config|--in-use|\
	--s3-credentials)
		_filedir
		return ;;
	--cache-dir|--backup-dir|--storage-root)
		_filedir -d
		return ;;
	--untagged)
		COMPREPLY=($(compgen -W "delete keep" -- "$cur"))
		return ;;
	--notify-on)
		COMPREPLY=($(compgen -W "always failure change" -- "$cur"))
		return ;;
	--order)
		COMPREPLY=($(compgen -W "created pushed version" -- "$cur"))
		return ;;
	-r|--registry|-u|--username|-j|--jobs|--rate|--connect-timeout|--timeout|--retries|\
	--deadline|--page-size|--shard|--repos|--tags|--keep-last|--keep-newer-than|--keep-tags|\
	--untagged-grace|--ssh|--ssh-timeout|--command-timeout|--before-gc|--after-gc|--gc-command|\
	--notify|--s3-endpoint|--s3-region)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		local opts
		# "--[no-]untag" in the help stands for --untag and --no-untag
		opts=$(regsweep ${cmd:+$cmd} --help 2>/dev/null |
			sed -E 's/--\[no-\]([a-z-]+)/--\1 --no-\1/g' | grep -oE -- '--[a-z][a-z-]+' | sort -u)
		opts+=" $(regsweep --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u)"
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands help" -- "$cur"))
		return
	fi
	case $cmd in
	apply) _filedir json ;;
	restore) _filedir -d ;;
	esac
} &&
	complete -F _regsweep regsweep
