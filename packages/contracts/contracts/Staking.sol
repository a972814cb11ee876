// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlsPop} from "./BlsPop.sol";

/**
 * @title Staking
 * @notice zgnode's staking system contract. It lives in genesis at the fixed address
 * 0x0000000000000000000000000000000000001001 (the address 0G's docs give the Staking precompile) with no
 * deployment transaction: `stakingGenesisAlloc` in zgnode contracts runs this constructor in a scratch EVM and
 * places the resulting code, storage and balance in the genesis state.
 *
 * Model (one contract, shaped after 0G Gen 2's IStakingContract + IValidatorContract):
 * - A validator is keyed by its operator address and carries a 48-byte BLS12-381 public key. Registration
 *   verifies the key's proof of possession ON CHAIN with the EIP-2537 precompiles, see {BlsPop} for why this is
 *   practical and for the exact formats. The same check runs for genesis validators in the constructor.
 * - Delegation is share based: each validator has `tokens` (bonded wei) and `shares`; delegating mints shares at
 *   the current rate, rewards raise `tokens` (so every delegator's shares appreciate), slashing lowers it.
 * - Undelegating moves tokens into the validator's unbonding pool (also share based) and records an entry that
 *   matures after `unbondingPeriod` blocks. Slashing cuts the unbonding pool by the same fraction, so stake that
 *   is leaving is still accountable until it is withdrawn.
 * - Commission is in parts per million (50_000 = 5%), like 0G. It may move by at most
 *   `maxCommissionChangePpm` per edit and at most once per `commissionChangeDelay` blocks.
 * - Rewards: the chain calls `distributeRewards(proposer)` once per block from the system address with
 *   `msg.value` = block reward (`params().blockReward`, which the chain credits to the system address) plus the
 *   block's priority fees. Commission goes to the proposer's operator (withdrawable), the rest to its delegators
 *   by shares. Value for a proposer that cannot take it (unknown, jailed, no shares) is carried to the next
 *   block's distribution, so nothing is ever stranded.
 * - Slashing: `slash(validator, fractionPpm, evidenceHash)` from the system address at block start, once per
 *   evidence hash, cuts bonded and unbonding stake by the fraction and jails the validator for `jailPeriod` blocks.
 *   Slashed wei stays locked in this contract and is counted in `totalBurned`.
 * - The active set (what consensus reads) changes only in `onEpochEnd()`, called by the chain from the system
 *   address at each epoch boundary (block number a multiple of `epochLength`): the top `maxActiveValidators`
 *   unjailed validators whose self stake is at least `minSelfStake`, by bonded tokens (ties: lower address first).
 *   Voting power is bonded tokens in gwei, frozen for the epoch.
 * - Every state change emits an event. Parameters are fixed at genesis (no governance yet).
 */
contract Staking {
    /// Caller of the system functions, as in EIP-4788/EIP-2935.
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 public constant PPM = 1_000_000;
    uint256 public constant BLS_PUBKEY_LENGTH = 48;
    uint256 public constant POP_LENGTH = 192;
    uint256 private constant POWER_UNIT = 1 gwei;

    struct Params {
        uint256 minSelfStake; // wei the operator must keep self-delegated to be in the set (and to register)
        uint256 minDelegation; // smallest delegate() value, wei
        uint256 blockReward; // wei per block the chain adds to fees in distributeRewards (read here by the chain)
        uint64 unbondingPeriod; // blocks from undelegate to withdrawable
        uint64 epochLength; // blocks per epoch
        uint64 jailPeriod; // blocks a slashed validator stays jailed
        uint64 commissionChangeDelay; // minimum blocks between two commission changes
        uint32 maxCommissionChangePpm; // largest commission change per edit
        uint32 slashFractionDoubleSignPpm; // fraction the chain passes to slash() for duplicate votes
        uint32 maxActiveValidators; // size cap of the active set
        uint32 maxValidatorCount; // cap on registered validators (bounds onEpochEnd's gas)
        uint32 maxUnbondingEntries; // pending unbonding entries per delegator (bounds withdraw's gas)
    }

    /// 0G's Description, with its length limits (moniker 70, identity 3000, website 140, contact 140, details 280).
    struct Description {
        string moniker;
        string identity;
        string website;
        string securityContact;
        string details;
    }

    struct InitialValidator {
        address operator;
        bytes blsPubkey;
        bytes pop;
        uint256 stake;
        uint32 commissionPpm;
        Description description;
    }

    struct Validator {
        bytes blsPubkey;
        uint256 tokens;
        uint256 shares;
        uint256 unbondingTokens;
        uint256 unbondingShares;
        uint256 commissionAccrued;
        uint32 commissionPpm;
        uint64 commissionUpdatedAt;
        uint64 createdAt;
        uint64 jailedUntil;
        bool jailed;
        Description description;
    }

    struct ValidatorInfo {
        address operator;
        bytes blsPubkey;
        uint256 tokens;
        uint256 shares;
        uint256 selfStake;
        uint256 unbondingTokens;
        uint256 commissionAccrued;
        uint32 commissionPpm;
        uint64 commissionUpdatedAt;
        uint64 createdAt;
        bool jailed;
        uint64 jailedUntil;
        bool active;
        Description description;
    }

    struct SetMember {
        address operator;
        bytes blsPubkey;
        uint64 votingPower;
    }

    struct UnbondingEntry {
        address validator;
        uint64 completionHeight;
        uint256 shares; // shares of the validator's unbonding pool
    }

    struct UnbondingInfo {
        address validator;
        uint64 completionHeight;
        uint256 shares;
        uint256 amount; // wei the entry is worth now
    }

    Params internal _params;
    mapping(address => Validator) internal _validators;
    /// Validators holding stake (shares > 0): the candidates onEpochEnd scans. A validator whose every share is
    /// undelegated leaves this list (its record stays, for pending unbondings and a later return) so exited
    /// validators cannot fill `maxValidatorCount` and lock out newcomers.
    address[] internal _operators;
    mapping(address => uint256) internal _operatorSlot; // index in _operators + 1, 0 when not listed
    mapping(bytes32 => address) internal _operatorByKeyHash;
    /// validator => delegator => shares
    mapping(address => mapping(address => uint256)) internal _delegations;
    mapping(address => UnbondingEntry[]) internal _unbondings;
    mapping(bytes32 => bool) public evidenceProcessed;
    /// The active set, one slot per member: (votingPower << 160) | operator, by stake descending.
    uint256[] internal _activeSet;
    uint64 public epoch;
    uint256 public pendingRewards;
    uint256 public totalBurned;
    bool private transient _locked;

    event ValidatorCreated(address indexed operator, bytes blsPubkey, uint32 commissionPpm, uint256 selfStake);
    event ValidatorEdited(address indexed operator, uint32 commissionPpm);
    event Delegated(address indexed validator, address indexed delegator, uint256 amount, uint256 shares);
    event Undelegated(
        address indexed validator,
        address indexed delegator,
        uint256 shares,
        uint256 amount,
        uint64 completionHeight
    );
    event Withdrawn(address indexed validator, address indexed delegator, uint256 amount);
    event CommissionWithdrawn(address indexed validator, uint256 amount);
    event RewardsDistributed(address indexed proposer, uint256 amount, uint256 commission);
    event RewardsDeferred(address indexed proposer, uint256 amount);
    event Slashed(address indexed validator, bytes32 indexed evidenceHash, uint32 fractionPpm, uint256 amount);
    event Jailed(address indexed validator, uint64 untilBlock);
    event Unjailed(address indexed validator);
    event ValidatorSetUpdated(uint64 indexed epoch, address[] operators, uint64[] votingPowers);

    error NotSystem();
    error InvalidParams();
    error ValidatorExists(address operator);
    error UnknownValidator(address operator);
    error TooManyValidators(uint256 max);
    error InvalidBlsPubkey();
    error InvalidProofOfPossession();
    error BlsPubkeyInUse(address operator);
    error StakeBelowMinimum(uint256 amount, uint256 min);
    error InvalidCommission(uint32 commissionPpm);
    error CommissionChangeTooLarge(uint32 fromPpm, uint32 toPpm, uint32 maxChangePpm);
    error CommissionChangeTooSoon(uint64 allowedAtBlock);
    error DescriptionTooLong(string field, uint256 length, uint256 max);
    error InsufficientShares(uint256 requested, uint256 held);
    error TooManyUnbondingEntries(uint256 max);
    error NothingToWithdraw();
    error NotJailed();
    error StillJailed(uint64 untilBlock);
    error InvalidSlashFraction(uint32 fractionPpm);
    error GenesisStakeMismatch(uint256 expected, uint256 received);
    error TransferFailed();
    error Reentrancy();

    modifier onlySystem() {
        if (msg.sender != SYSTEM_ADDRESS) revert NotSystem();
        _;
    }

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    modifier existing(address operator) {
        if (_validators[operator].blsPubkey.length == 0) revert UnknownValidator(operator);
        _;
    }

    /// @param initialParams fixed chain parameters.
    /// @param initial genesis validators; msg.value must equal the sum of their stakes. Their proofs of
    /// possession are checked like any registration, and they form the active set of epoch 0.
    constructor(Params memory initialParams, InitialValidator[] memory initial) payable {
        if (
            initialParams.minSelfStake < POWER_UNIT ||
            initialParams.minDelegation == 0 ||
            initialParams.unbondingPeriod == 0 ||
            initialParams.epochLength == 0 ||
            initialParams.maxActiveValidators == 0 ||
            initialParams.maxValidatorCount < initialParams.maxActiveValidators ||
            initialParams.maxUnbondingEntries == 0 ||
            initialParams.slashFractionDoubleSignPpm >= PPM ||
            initialParams.maxCommissionChangePpm > PPM
        ) revert InvalidParams();
        _params = initialParams;
        uint256 total;
        for (uint256 i = 0; i < initial.length; i++) {
            InitialValidator memory v = initial[i];
            total += v.stake;
            _createValidator(v.operator, v.blsPubkey, v.pop, v.commissionPpm, v.description, v.stake);
        }
        if (total != msg.value) revert GenesisStakeMismatch(total, msg.value);
        _updateValidatorSet();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Validators and delegators

    /// @notice Registers msg.sender as a validator operator, self-delegating msg.value (>= minSelfStake).
    /// @param blsPubkey 48-byte compressed BLS12-381 G1 public key.
    /// @param pop proof of possession: the key's signature over "zgnode/bls-pop/v1" || blsPubkey as a 192-byte
    /// uncompressed G2 point (see {BlsPop}).
    /// @dev The validator joins the active set at the next epoch boundary.
    function createValidator(
        bytes calldata blsPubkey,
        bytes calldata pop,
        uint32 commissionPpm,
        Description calldata description
    ) external payable {
        _createValidator(msg.sender, blsPubkey, pop, commissionPpm, description, msg.value);
    }

    function delegate(address validator) external payable existing(validator) {
        if (msg.value < _params.minDelegation) revert StakeBelowMinimum(msg.value, _params.minDelegation);
        _delegate(validator, msg.sender, msg.value);
    }

    /// @notice Starts unbonding `shares` of msg.sender's delegation; the wei becomes withdrawable at
    /// `completionHeight` and stays slashable until then.
    function undelegate(
        address validator,
        uint256 shares
    ) external existing(validator) returns (uint256 amount, uint64 completionHeight) {
        uint256 held = _delegations[validator][msg.sender];
        if (shares == 0 || shares > held) revert InsufficientShares(shares, held);
        UnbondingEntry[] storage entries = _unbondings[msg.sender];
        if (entries.length >= _params.maxUnbondingEntries) revert TooManyUnbondingEntries(_params.maxUnbondingEntries);
        Validator storage v = _validators[validator];
        amount = (shares * v.tokens) / v.shares;
        v.tokens -= amount;
        v.shares -= shares;
        _delegations[validator][msg.sender] = held - shares;
        if (v.shares == 0) _unlist(validator);
        uint256 poolShares = v.unbondingShares == 0 ? amount : (amount * v.unbondingShares) / v.unbondingTokens;
        v.unbondingTokens += amount;
        v.unbondingShares += poolShares;
        completionHeight = uint64(block.number) + _params.unbondingPeriod;
        entries.push(UnbondingEntry(validator, completionHeight, poolShares));
        emit Undelegated(validator, msg.sender, shares, amount, completionHeight);
    }

    /// @notice Pays out every matured unbonding entry of msg.sender (one transfer) and drops them.
    function withdraw() external nonReentrant returns (uint256 total) {
        UnbondingEntry[] storage entries = _unbondings[msg.sender];
        uint256 i = 0;
        while (i < entries.length) {
            UnbondingEntry memory e = entries[i];
            if (e.completionHeight > block.number) {
                i++;
                continue;
            }
            Validator storage v = _validators[e.validator];
            uint256 amount = (e.shares * v.unbondingTokens) / v.unbondingShares;
            v.unbondingTokens -= amount;
            v.unbondingShares -= e.shares;
            total += amount;
            emit Withdrawn(e.validator, msg.sender, amount);
            entries[i] = entries[entries.length - 1];
            entries.pop();
        }
        if (total == 0) revert NothingToWithdraw();
        _send(msg.sender, total);
    }

    function withdrawCommission() external nonReentrant existing(msg.sender) returns (uint256 amount) {
        Validator storage v = _validators[msg.sender];
        amount = v.commissionAccrued;
        if (amount == 0) revert NothingToWithdraw();
        v.commissionAccrued = 0;
        emit CommissionWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    function editValidator(
        uint32 commissionPpm,
        Description calldata description
    ) external existing(msg.sender) {
        Validator storage v = _validators[msg.sender];
        if (commissionPpm != v.commissionPpm) {
            if (commissionPpm > PPM) revert InvalidCommission(commissionPpm);
            uint32 delta = commissionPpm > v.commissionPpm
                ? commissionPpm - v.commissionPpm
                : v.commissionPpm - commissionPpm;
            if (delta > _params.maxCommissionChangePpm) {
                revert CommissionChangeTooLarge(v.commissionPpm, commissionPpm, _params.maxCommissionChangePpm);
            }
            uint64 allowedAt = v.commissionUpdatedAt + _params.commissionChangeDelay;
            if (block.number < allowedAt) revert CommissionChangeTooSoon(allowedAt);
            v.commissionPpm = commissionPpm;
            v.commissionUpdatedAt = uint64(block.number);
        }
        _checkDescription(description);
        v.description = description;
        emit ValidatorEdited(msg.sender, commissionPpm);
    }

    /// @notice Leaves jail once `jailedUntil` has passed, if the self stake still meets the minimum; the
    /// validator rejoins the set at the next epoch boundary.
    function unjail() external existing(msg.sender) {
        Validator storage v = _validators[msg.sender];
        if (!v.jailed) revert NotJailed();
        if (block.number < v.jailedUntil) revert StillJailed(v.jailedUntil);
        uint256 self = _selfStake(msg.sender);
        if (self < _params.minSelfStake) revert StakeBelowMinimum(self, _params.minSelfStake);
        v.jailed = false;
        emit Unjailed(msg.sender);
    }

    // ---------------------------------------------------------------------------------------------------------
    // System calls (from SYSTEM_ADDRESS, made by the chain itself)

    /// @notice Punishes equivocation: cuts bonded and unbonding stake by `fractionPpm` and jails. Applied at block
    /// start; a repeated `evidenceHash` is ignored (returns false) so replays cannot slash twice.
    function slash(
        address validator,
        uint32 fractionPpm,
        bytes32 evidenceHash
    ) external onlySystem existing(validator) returns (bool) {
        if (fractionPpm == 0 || fractionPpm >= PPM) revert InvalidSlashFraction(fractionPpm);
        if (evidenceProcessed[evidenceHash]) return false;
        evidenceProcessed[evidenceHash] = true;
        Validator storage v = _validators[validator];
        uint256 bonded = (v.tokens * fractionPpm) / PPM;
        uint256 unbonding = (v.unbondingTokens * fractionPpm) / PPM;
        v.tokens -= bonded;
        v.unbondingTokens -= unbonding;
        totalBurned += bonded + unbonding;
        uint64 until = uint64(block.number) + _params.jailPeriod;
        if (!v.jailed || until > v.jailedUntil) v.jailedUntil = until;
        v.jailed = true;
        emit Slashed(validator, evidenceHash, fractionPpm, bonded + unbonding);
        emit Jailed(validator, v.jailedUntil);
        return true;
    }

    /// @notice Pays msg.value (block reward + fees) plus any deferred rewards to `proposer`'s stake.
    function distributeRewards(address proposer) external payable onlySystem {
        uint256 amount = msg.value + pendingRewards;
        Validator storage v = _validators[proposer];
        if (v.blsPubkey.length == 0 || v.jailed || v.shares == 0) {
            pendingRewards = amount;
            emit RewardsDeferred(proposer, amount);
            return;
        }
        pendingRewards = 0;
        uint256 commission = (amount * v.commissionPpm) / PPM;
        v.commissionAccrued += commission;
        v.tokens += amount - commission;
        emit RewardsDistributed(proposer, amount, commission);
    }

    /// @notice Applies the set changes gathered during the epoch (joins, leaves, jailed removed, new powers).
    function onEpochEnd() external onlySystem {
        epoch += 1;
        _updateValidatorSet();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views

    function params() external view returns (Params memory) {
        return _params;
    }

    /// @notice Validators currently holding stake (fully undelegated ones are not counted, see `_operators`).
    function validatorCount() external view returns (uint256) {
        return _operators.length;
    }

    function validatorOperators() external view returns (address[] memory) {
        return _operators;
    }

    function validatorByBlsPubkey(bytes calldata blsPubkey) external view returns (address) {
        return _operatorByKeyHash[keccak256(blsPubkey)];
    }

    function getValidator(address operator) external view existing(operator) returns (ValidatorInfo memory info) {
        Validator storage v = _validators[operator];
        info.operator = operator;
        info.blsPubkey = v.blsPubkey;
        info.tokens = v.tokens;
        info.shares = v.shares;
        info.selfStake = _selfStake(operator);
        info.unbondingTokens = v.unbondingTokens;
        info.commissionAccrued = v.commissionAccrued;
        info.commissionPpm = v.commissionPpm;
        info.commissionUpdatedAt = v.commissionUpdatedAt;
        info.createdAt = v.createdAt;
        info.jailed = v.jailed;
        info.jailedUntil = v.jailedUntil;
        for (uint256 i = 0; i < _activeSet.length; i++) {
            if (address(uint160(_activeSet[i])) == operator) info.active = true;
        }
        info.description = v.description;
    }

    /// @return shares the delegator's shares of `validator`; tokens what they are worth now, in wei.
    function getDelegation(address validator, address delegator) external view returns (uint256 shares, uint256 tokens) {
        shares = _delegations[validator][delegator];
        Validator storage v = _validators[validator];
        tokens = shares == 0 ? 0 : (shares * v.tokens) / v.shares;
    }

    /// @notice The set consensus uses for the current epoch (fixed at the last epoch boundary).
    function activeValidatorSet() external view returns (SetMember[] memory set) {
        return _members(_activeSet);
    }

    /// @notice The set onEpochEnd() would install if the epoch ended now.
    function nextValidatorSet() external view returns (SetMember[] memory set) {
        return _members(_selectValidatorSet());
    }

    function pendingUnbondings(address delegator) external view returns (UnbondingInfo[] memory list) {
        UnbondingEntry[] storage entries = _unbondings[delegator];
        list = new UnbondingInfo[](entries.length);
        for (uint256 i = 0; i < entries.length; i++) {
            UnbondingEntry storage e = entries[i];
            Validator storage v = _validators[e.validator];
            list[i] = UnbondingInfo(e.validator, e.completionHeight, e.shares, (e.shares * v.unbondingTokens) / v.unbondingShares);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals

    function _createValidator(
        address operator,
        bytes memory blsPubkey,
        bytes memory pop,
        uint32 commissionPpm,
        Description memory description,
        uint256 stake
    ) internal {
        Validator storage v = _validators[operator];
        if (v.blsPubkey.length != 0) revert ValidatorExists(operator);
        if (_operators.length >= _params.maxValidatorCount) revert TooManyValidators(_params.maxValidatorCount);
        if (blsPubkey.length != BLS_PUBKEY_LENGTH) revert InvalidBlsPubkey();
        bytes32 keyHash = keccak256(blsPubkey);
        address holder = _operatorByKeyHash[keyHash];
        if (holder != address(0)) revert BlsPubkeyInUse(holder);
        if (commissionPpm > PPM) revert InvalidCommission(commissionPpm);
        if (stake < _params.minSelfStake) revert StakeBelowMinimum(stake, _params.minSelfStake);
        _checkDescription(description);
        if (pop.length != POP_LENGTH || !BlsPop.verify(blsPubkey, pop)) revert InvalidProofOfPossession();

        v.blsPubkey = blsPubkey;
        v.commissionPpm = commissionPpm;
        v.commissionUpdatedAt = uint64(block.number);
        v.createdAt = uint64(block.number);
        v.description = description;
        _operatorByKeyHash[keyHash] = operator;
        emit ValidatorCreated(operator, blsPubkey, commissionPpm, stake);
        _delegate(operator, operator, stake);
    }

    function _delegate(address validator, address delegator, uint256 amount) internal {
        Validator storage v = _validators[validator];
        // Slashing keeps tokens > 0 while shares exist (fraction < 100%), so the rate is always defined.
        uint256 newShares = v.shares == 0 ? amount : (amount * v.shares) / v.tokens;
        if (newShares == 0) revert StakeBelowMinimum(amount, _params.minDelegation);
        if (v.shares == 0) _list(validator);
        v.tokens += amount;
        v.shares += newShares;
        _delegations[validator][delegator] += newShares;
        emit Delegated(validator, delegator, amount, newShares);
    }

    function _list(address operator) internal {
        if (_operatorSlot[operator] != 0) return;
        if (_operators.length >= _params.maxValidatorCount) revert TooManyValidators(_params.maxValidatorCount);
        _operators.push(operator);
        _operatorSlot[operator] = _operators.length;
    }

    function _unlist(address operator) internal {
        uint256 slot = _operatorSlot[operator];
        if (slot == 0) return;
        address last = _operators[_operators.length - 1];
        _operators[slot - 1] = last;
        _operatorSlot[last] = slot;
        _operators.pop();
        delete _operatorSlot[operator];
    }

    function _selfStake(address operator) internal view returns (uint256) {
        Validator storage v = _validators[operator];
        uint256 own = _delegations[operator][operator];
        return own == 0 ? 0 : (own * v.tokens) / v.shares;
    }

    function _updateValidatorSet() internal {
        uint256[] memory next = _selectValidatorSet();
        // An empty set would halt consensus; keep the previous one instead (it can only happen if every
        // validator is jailed or unbonded, which the chain must surface to operators).
        if (next.length != 0) _activeSet = next;
        else next = _activeSet;
        address[] memory ops = new address[](next.length);
        uint64[] memory powers = new uint64[](next.length);
        for (uint256 i = 0; i < next.length; i++) {
            ops[i] = address(uint160(next[i]));
            powers[i] = uint64(next[i] >> 160);
        }
        emit ValidatorSetUpdated(epoch, ops, powers);
    }

    function _members(uint256[] memory packed) internal view returns (SetMember[] memory set) {
        set = new SetMember[](packed.length);
        for (uint256 i = 0; i < packed.length; i++) {
            address op = address(uint160(packed[i]));
            set[i] = SetMember(op, _validators[op].blsPubkey, uint64(packed[i] >> 160));
        }
    }

    /// Eligible validators ordered by bonded tokens (desc), ties by operator address (asc), capped at
    /// maxActiveValidators, packed as (votingPower << 160) | operator. O(n log n): one heap sort of packed keys
    /// (stake << 160 | ~operator), so ordering needs no second array and no recursion.
    function _selectValidatorSet() internal view returns (uint256[] memory set) {
        uint256 n = _operators.length;
        uint256[] memory keys = new uint256[](n);
        uint256 count = 0;
        uint256 minSelfStake = _params.minSelfStake;
        for (uint256 i = 0; i < n; i++) {
            address op = _operators[i];
            Validator storage v = _validators[op];
            uint256 tokens = v.tokens;
            if (v.jailed || tokens < POWER_UNIT || _selfStake(op) < minSelfStake) continue;
            // stake saturates at 2^96 - 1 wei (~7.9e10 ether) inside the key; the order only loses precision above
            uint256 stake = tokens > type(uint96).max ? type(uint96).max : tokens;
            keys[count++] = (stake << 160) | (type(uint160).max - uint160(op));
        }
        assembly {
            mstore(keys, count)
        }
        _heapSort(keys);
        uint256 size = count < _params.maxActiveValidators ? count : _params.maxActiveValidators;
        set = new uint256[](size);
        for (uint256 i = 0; i < size; i++) {
            uint256 key = keys[count - 1 - i]; // ascending sort: the largest keys are at the end
            address op = address(type(uint160).max - uint160(key));
            uint256 power = (key >> 160) / POWER_UNIT;
            if (power > type(uint64).max) power = type(uint64).max;
            set[i] = (power << 160) | uint160(op);
        }
    }

    function _heapSort(uint256[] memory a) private pure {
        uint256 n = a.length;
        if (n < 2) return;
        unchecked {
            for (uint256 i = n / 2; i > 0; i--) _siftDown(a, i - 1, n);
            for (uint256 end = n - 1; end > 0; end--) {
                (a[0], a[end]) = (a[end], a[0]);
                _siftDown(a, 0, end);
            }
        }
    }

    function _siftDown(uint256[] memory a, uint256 root, uint256 n) private pure {
        unchecked {
            while (true) {
                uint256 child = 2 * root + 1;
                if (child >= n) return;
                if (child + 1 < n && a[child + 1] > a[child]) child++;
                if (a[root] >= a[child]) return;
                (a[root], a[child]) = (a[child], a[root]);
                root = child;
            }
        }
    }

    function _checkDescription(Description memory d) internal pure {
        _checkLength("moniker", bytes(d.moniker).length, 70);
        _checkLength("identity", bytes(d.identity).length, 3000);
        _checkLength("website", bytes(d.website).length, 140);
        _checkLength("securityContact", bytes(d.securityContact).length, 140);
        _checkLength("details", bytes(d.details).length, 280);
    }

    function _checkLength(string memory field, uint256 length, uint256 max) private pure {
        if (length > max) revert DescriptionTooLong(field, length, max);
    }

    function _send(address to, uint256 amount) private {
        (bool ok, ) = payable(to).call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
