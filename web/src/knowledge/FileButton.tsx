import { useRef } from 'react';

/**
 * A button that opens the file picker: a label around a hidden input, focusable and opened with Enter or Space, so
 * uploads work from the keyboard. `folder` picks a whole directory (webkitdirectory, which React does not type).
 */
export function FileButton({ text, label, multiple, folder, disabled, className, onFiles }: {
  text: string; label: string; multiple?: boolean; folder?: boolean; disabled?: boolean; className?: string; onFiles: (files: FileList) => void;
}) {
  const input = useRef<HTMLInputElement | null>(null);
  return (
    <label className={className ?? 'button'} tabIndex={disabled ? -1 : 0} aria-disabled={disabled || undefined}
      onKeyDown={e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.current?.click(); } }}>
      {text}
      <input type="file" hidden multiple={multiple} aria-label={label} disabled={disabled}
        ref={el => { input.current = el; if (folder) el?.setAttribute('webkitdirectory', ''); }}
        onChange={e => { if (e.target.files) onFiles(e.target.files); e.target.value = ''; }} />
    </label>
  );
}
