"""``bike-bench manifests build|check|list``: dataset manifests.

- ``build DATASET [--format F] [--source DIR] [--out DIR]``: turn a dataset's
  annotation files into manifests (``manifests/<dataset>.yaml`` says which
  files each format needs); ``build custom --name NAME --format
  folder|csv|mmaction-video|mmaction-rawframes --source DIR --out OUT``: a
  dataset of one's own. Every build prints its summary and what the build
  contract found (classes without entries, likely label typos, entries
  without a file, which class table was used);
- ``check MANIFEST... [--probe-decode] [--skip-missing OUT]``: validate
  manifests against the disk; exits 1 on errors;
- ``list [--data-root DIR]``: what is built, buildable or missing.
"""
from __future__ import annotations

import sys
from typing import Dict, List

from bike_bench.cli.common import dataset_arg

CUSTOM = 'custom'


def _dataset_or_custom(text: str) -> str:
    """``type=`` of ``build``'s dataset: a shipped dataset, or ``custom``."""
    import argparse
    import difflib
    if text == CUSTOM:
        return CUSTOM
    try:
        return dataset_arg()(text)
    except argparse.ArgumentTypeError as error:
        if difflib.get_close_matches(text.lower(), [CUSTOM], cutoff=0.7):
            raise argparse.ArgumentTypeError(
                f'unknown dataset {text!r} (did you mean {CUSTOM}, a dataset of your '
                'own?)') from None
        raise argparse.ArgumentTypeError(f'{error}; or {CUSTOM} (a dataset of your '
                                         'own, with --name)') from None


def _pairs(values: List[str], option: str) -> Dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, rest = value.partition('=')
        if not sep or not key:
            raise SystemExit(f'{option} expects KEY=VALUE, got {value!r}')
        pairs[key] = rest
    return pairs


def add_parser(subparsers):
    parser = subparsers.add_parser('manifests', help='build, check and list '
                                   'dataset manifests')
    commands = parser.add_subparsers(dest='manifests_command', metavar='ACTION')

    build = commands.add_parser('build', help='build manifests from a '
                                "dataset's annotation files")
    build.add_argument('dataset', type=_dataset_or_custom,
                       help='a dataset with a spec in manifests/ (e.g. ucf101), or '
                       '"custom" for a dataset of your own (with --name)')
    build.add_argument('--format', dest='fmt', help='source format (default: the '
                       "dataset's own; see `manifests list --formats`); custom: "
                       'folder, csv, mmaction-video or mmaction-rawframes')
    build.add_argument('--source', help='folder with the source files (default: '
                       'the output folder); custom: the folder entry paths are '
                       'relative to')
    build.add_argument('--out', help='dataset folder to write (default data/<dataset>)')
    build.add_argument('--name', help='custom: the dataset\'s name (lower case, '
                       'digits, "-"); it names the manifests, runs and tables')
    build.add_argument('--ann', action='append', metavar='[SPLIT=]FILE',
                       help='custom: an annotation file (csv: the CSV; mmaction lists: '
                       'one per split, SPLIT=FILE); default: found in --source')
    build.add_argument('--split', help='custom csv without a split column: its '
                       'split (default test)')
    build.add_argument('--classes', metavar='FILE', help='the class table to use '
                       '(id,name CSV, classInd.txt, or one name per line)')
    build.add_argument('--strict', action='store_true', help='refuse the build on '
                       'warnings too (classes without entries, likely typos, '
                       'entries without a file)')
    build.add_argument('--file', action='append', metavar='KEY=PATH',
                       help='path of one source file (repeatable)')
    build.add_argument('--only', nargs='+', metavar='MANIFEST',
                       help='build only these manifests')
    build.add_argument('--media', action='append', metavar='MANIFEST=DIR',
                       help='folder (in the dataset folder) entry paths go under; '
                       'MANIFEST may be * (repeatable)')
    build.add_argument('--pattern', help='video path pattern (Kinetics CSV, '
                       'ActivityNet JSON, Charades), e.g. "{split}/{label_slug}/'
                       '{youtube_id}_{time_start:06d}_{time_end:06d}.mp4"')
    build.add_argument('--filename-tmpl', help='frame file name template')
    build.add_argument('--frames', action='store_true', default=None,
                       help='frame folders instead of videos (Charades)')
    build.add_argument('--min-frames', type=int, default=0,
                       help='leave out (and report) entries listed with fewer '
                       'frames (the official training lists drop < 8)')
    build.add_argument('--data-root', default='..', help='data_root written into '
                       'the manifests (default: the dataset folder)')
    build.set_defaults(func=run_build)

    check = commands.add_parser('check', help='validate manifests against the disk')
    check.add_argument('manifests', nargs='+', metavar='MANIFEST')
    check.add_argument('--data-root', help="override the manifests' data_root")
    check.add_argument('--probe-decode', action='store_true',
                       help='open every video and decode its first and last frame')
    check.add_argument('--min-frames', type=int, default=1,
                       help='entries with fewer frames are errors (default 1)')
    check.add_argument('--skip-missing', metavar='OUT',
                       help='write the entries without problems to OUT and the '
                       'dropped ones, with reasons, to OUT.dropped.csv (one manifest)')
    check.add_argument('--max-issues', type=int, default=10,
                       help='issues printed per kind (default 10)')
    check.set_defaults(func=run_check)

    listing = commands.add_parser('list', help='manifests: built, buildable, missing')
    listing.add_argument('--data-root', default='data')
    listing.add_argument('--dataset', nargs='+', type=dataset_arg())
    listing.add_argument('--formats', action='store_true',
                         help='also list every source format and its files')
    listing.set_defaults(func=run_list)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _annotations(values: List[str]) -> Dict[str, str]:
    found = {}
    for value in values or []:
        split, sep, path = value.rpartition('=')
        found[split if sep else ''] = path
    return found


def run_build(args) -> int:
    from tabulate import tabulate
    from bike_bench.datasets.build import BuildContractError, build_custom, build_dataset
    from bike_bench.datasets.builders import SourceError
    from bike_bench.datasets.specs import SpecError
    try:
        if args.dataset == CUSTOM:
            if not (args.name and args.fmt and args.source):
                print('error: manifests build custom needs --name, --format and '
                      '--source', file=sys.stderr)
                return 2
            outcome = build_custom(
                args.name, args.fmt, args.source, out=args.out,
                annotations=_annotations(args.ann), classes=args.classes,
                split=args.split, filename_tmpl=args.filename_tmpl,
                min_frames=args.min_frames, strict=args.strict)
        else:
            for option in ('name', 'ann', 'split'):
                if getattr(args, option):
                    print(f'error: --{option} is for `manifests build custom`',
                          file=sys.stderr)
                    return 2
            outcome = build_dataset(
                args.dataset, args.fmt, source=args.source, out=args.out,
                files=_pairs(args.file, '--file'), only=args.only,
                media=_pairs(args.media, '--media'), pattern=args.pattern,
                filename_tmpl=args.filename_tmpl, frames=args.frames,
                min_frames=args.min_frames, data_root=args.data_root,
                classes=args.classes, strict=args.strict)
    except BuildContractError as error:
        for issue in error.issues:
            print(issue.line(), file=sys.stderr)
        print(f'error: {error}', file=sys.stderr)
        return 1
    except (SourceError, SpecError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{outcome.dataset} ({outcome.format}) -> {outcome.out_dir}')
    print(tabulate(outcome.rows(), headers='keys'))
    for issue in outcome.issues:
        print(issue.line(), file=sys.stdout if issue.severity == 'note' else sys.stderr)
    for name, report in outcome.reports.items():
        print(f'{name}: left-out source records and why: {report}')
    for name, report in outcome.missing.items():
        print(f'{name}: entries without a file: {report}')
    return 0


def run_check(args) -> int:
    from bike_bench.datasets.check import (check_manifest, filter_manifest,
                                           issue_lines, summary_table)
    if args.skip_missing and len(args.manifests) != 1:
        print('error: --skip-missing takes exactly one manifest', file=sys.stderr)
        return 2
    reports = [check_manifest(path, args.data_root, args.probe_decode,
                              args.min_frames) for path in args.manifests]
    print(summary_table(reports))
    for report in reports:
        for line in issue_lines(report, args.max_issues):
            print(line)
    if not args.skip_missing:
        return 0 if all(report.ok for report in reports) else 1
    report = reports[0]
    if report.manifest is None:
        return 1
    out, dropped_report, dropped = filter_manifest(report, args.skip_missing)
    print(f'wrote {out} without {dropped} entries; why each was dropped: '
          f'{dropped_report}')
    # What is left must be sound: problems that dropping entries cannot fix
    # (class table, hash, classes left without entries) still fail.
    again = check_manifest(out, None, False, args.min_frames)
    for line in issue_lines(again, args.max_issues):
        print(f'after filtering: {line}')
    return 0 if again.ok else 1


def run_list(args) -> int:
    from tabulate import tabulate
    from bike_bench.datasets.specs import describe_missing, load_spec, source_status
    statuses = source_status(args.data_root, args.dataset)
    rows = [{'dataset': s.dataset, 'manifest': s.manifest,
             'built': 'yes' if s.built else 'no',
             'buildable from': ', '.join(s.buildable) or '-'} for s in statuses]
    print(tabulate(rows, headers='keys'))
    missing = describe_missing(statuses)
    if missing:
        print('\nTo build the rest:\n' + missing)
    if args.formats:
        for dataset in dict.fromkeys(s.dataset for s in statuses):
            spec = load_spec(dataset)
            print(f'\n{spec.title} ({dataset}), folder {args.data_root}/{spec.folder}/')
            for fmt in spec.formats.values():
                default = ' (default)' if fmt.name == spec.default_format else ''
                print(f'  --format {fmt.name}{default}: {fmt.description}')
                print(f'    where: {fmt.where}')
                for source in fmt.files.values():
                    print(f'    {source.key}: {" or ".join(source.paths)}'
                          + (f'  [{source.note}]' if source.note else ''))
    return 0

