import { LabIcon } from '@jupyterlab/ui-components';

import ledgerSvg from '../style/icons/ledger.svg';

/** The sidebar tab's icon: ledger blocks linked in a chain (themed through jp-icon3). */
export const ledgerIcon = new LabIcon({
  name: 'fedchain-labextension:ledger',
  svgstr: ledgerSvg
});
